// Package analysis derives comparisons from size models. It is the third
// step of the flow source → layers → analysis → report: pure functions over
// layers.Image values, no I/O, no formatting.
package analysis
