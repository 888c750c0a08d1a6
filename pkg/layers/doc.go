// Package layers is imgsize's size model: it turns a resolved image
// (source.Image) into plain data — per-layer digests, media types, the
// command that made each layer, and every size with its provenance.
//
// It is the second step of the flow source → layers → analysis → report.
// Cheap work comes first: compressed sizes are read from the manifest;
// layer bytes are read only for local images, or for registry images when
// Options.Exact asks for it.
package layers
