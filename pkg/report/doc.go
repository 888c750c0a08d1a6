// Package report turns imgsize's results into what a person or a program
// reads: a terminal table, Markdown, CSV or versioned JSON.
//
// It is the last step of the flow source → layers → analysis → report: it
// renders layers.Image values (Inspect) and analysis.Comparison values
// (Compare) and knows nothing of how they were obtained. Humanizing bytes
// (FormatBytes) and marking how each figure was obtained happen here and
// only here; the model stays plain data.
//
// Every size printed says what it is: column headers name COMPRESSED or
// UNCOMPRESSED, and a size that was not read exactly carries a mark — "~"
// derived from metadata (annotation, gzip trailer, zstd header, or a mix),
// "≈" estimated, "?" unknown (never 0) — explained by a legend under the
// table. CSV gives every figure a *_provenance column and leaves an unknown
// cell empty; JSON writes null for an unknown size and omits a field that
// does not exist (the manifest digest, media type and size of a
// docker-archive, whose manifest is synthetic).
//
// A comparison sorts each image's layers against the baseline's, the same
// way on every transport: shared (the same blob, by digest), recompressed
// (the same content in another blob, by diffID: gzip against zstd, or a
// docker-archive's uncompressed layers) and unique (content the baseline
// lacks). The notes under the table say what each means and what pulling
// costs; JSON has comparison.rows[].matchedBy "digest+diffID", CSV
// matched_by.
//
// Every string from outside imgsize (names, references, history, paths,
// annotations, errors, reasons) is printed through one step, Terminal:
// control, bidi and other format characters are shown as Go escapes, so
// no output can drive a terminal or forge a line. Markdown escapes its own
// syntax and HTML on top, CSV and JUnit XML stay well-formed, GitHub
// workflow commands use the runner's escapes, and JSON keeps every string
// exactly (see sanitize.go).
//
// The JSON document (Document, in json.go) is a DTO of its own with a
// schema version, separate from the model, so saved reports stay readable
// as the model changes; DecodeJSON reads one back.
package report
