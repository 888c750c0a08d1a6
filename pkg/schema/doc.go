// Package schema is imgsize's JSON report: the document every command
// writes with --format json, its decoder, and the JSON Schema that
// describes it (report.schema.json, embedded as JSONSchema).
//
// It sits beside the data flow, as a leaf: pkg/report fills a Document from
// results, and pkg/source reads one back, so that a saved report can stand
// in for an image. It knows nothing of the model; the strings it checks
// (provenances, kinds, statuses) are repeated here on purpose, and tests in
// pkg/report keep them in step with the model's.
package schema
