// Package files reads what each layer of an image holds, file by file:
// paths, types, sizes, modes, link targets and whiteouts, never contents
// (a content digest only when asked). It is the file-level half of the
// model, beside pkg/layers: it takes a source.Image and knows nothing of
// analysis or reports.
//
// Each layer is read once, as a stream, decompressed with
// klauspost/compress, in parallel up to Options.Jobs, and checked against
// its digest and diff_id as it passes; what was learned is cached by layer
// digest, so a base layer shared by many registry images is read once
// ever (a local image's layers are always read: that is what checks
// them). An uncompressed local layer read without Options.Content is
// listed from its headers alone, seeking past contents. Memory grows with
// the number of paths, not with bytes.
package files
