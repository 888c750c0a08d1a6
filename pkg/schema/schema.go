package schema

import (
	_ "embed"
	"time"
)

// Version is the version of the document this package writes and reads. It
// changes only when a field is removed or changes meaning; new fields may
// appear within a version, and readers ignore fields they do not know.
const Version = 1

// JSONSchema is report.schema.json: the JSON Schema (draft 2020-12) every
// document of this Version validates against.
//
//go:embed report.schema.json
var JSONSchema []byte

// The kinds of document, one per command.
const (
	KindInspect = "inspect"
	KindCompare = "compare"
	KindCheck   = "check"
)

// Provenances are the values a SizeRecord's provenance takes (the model's
// layers.Provenance).
var Provenances = []string{"exact", "annotation", "gzip-trailer", "zstd-header", "estimated", "unknown", "mixed"}

// The identities layers are matched by in a comparison (RowRecord.MatchedBy).
const (
	MatchDigest = "digest"
	MatchDiffID = "diffID"
)

// The verdicts of a budget (BudgetRecord.Status).
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusUnknown = "unknown"
)

// Document is imgsize's JSON report. It is a DTO of its own, not the model:
// its field names and meanings are stable within a Version. Bytes are
// always integers; a size that is not known is null, never 0.
type Document struct {
	SchemaVersion int       `json:"schemaVersion"`
	Kind          string    `json:"kind"`
	Generator     Generator `json:"generator"`
	// Time is when the report was made (RFC 3339, UTC).
	Time time.Time `json:"time"`
	// Images are the images reported. In a comparison, one per row, in the
	// order of Comparison.Rows; in a check, each image read and then each
	// distinct baseline.
	Images []ImageRecord `json:"images"`
	// Comparison is set when Kind is KindCompare.
	Comparison *ComparisonRecord `json:"comparison,omitempty"`
	// Check is set when Kind is KindCheck.
	Check *CheckRecord `json:"check,omitempty"`
}

// Generator names the program that wrote a Document.
type Generator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SizeRecord is a byte count and how it was obtained (see layers.Provenance).
type SizeRecord struct {
	// Bytes is null when Provenance is "unknown".
	Bytes      *int64 `json:"bytes"`
	Provenance string `json:"provenance"`
	// Reason explains a provenance other than "exact", when known.
	Reason string `json:"reason,omitempty"`
}

// ImageRecord is one image and its sizes.
//
// A field that does not exist for an image is omitted, while a size that
// exists but is not known is null: when the source stores no manifest
// (docker-archive), SyntheticManifest is true and the manifest's Digest,
// MediaType and ManifestBytes are all omitted — the manifest imgsize made
// to read the archive has a digest, media type and size no registry would
// show. Every other image has all three.
type ImageRecord struct {
	// Ref is the argument as the user gave it; Name the resolved reference.
	Ref       string `json:"ref"`
	Name      string `json:"name"`
	Transport string `json:"transport"`
	// Digest is the manifest digest; omitted when SyntheticManifest.
	Digest string `json:"digest,omitempty"`
	// ConfigDigest is the image ID as docker shows it.
	ConfigDigest string `json:"configDigest"`
	// SyntheticManifest: the source stores no manifest (docker-archive).
	SyntheticManifest bool `json:"syntheticManifest,omitempty"`
	// MediaType is the manifest's media type; omitted when
	// SyntheticManifest.
	MediaType string `json:"mediaType,omitempty"`
	// Platform is os/arch[/variant][:osversion], empty when not known.
	Platform string `json:"platform,omitempty"`
	// ManifestBytes is the manifest's size; omitted when SyntheticManifest.
	ManifestBytes *int64 `json:"manifestBytes,omitempty"`
	ConfigBytes   int64  `json:"configBytes"`
	// Compressed and Uncompressed are totals over Layers.
	Compressed   SizeRecord    `json:"compressed"`
	Uncompressed SizeRecord    `json:"uncompressed"`
	Layers       []LayerRecord `json:"layers"`
	// Recorded is set when the figures were read from a saved report
	// rather than measured in this run: Ref then names the report, and
	// Name, Transport and the rest are as that report recorded them.
	Recorded *RecordedRecord `json:"recorded,omitempty"`
}

// RecordedRecord says where an image's figures were recorded.
type RecordedRecord struct {
	// Path is the report's file, as the user named it.
	Path string `json:"path"`
	// Ref is the image's argument in the run that wrote the report.
	Ref       string    `json:"ref"`
	Generator Generator `json:"generator"`
	// Time is the report's own Time; zero when it had none.
	Time time.Time `json:"time"`
}

// LayerRecord is one layer of an image.
type LayerRecord struct {
	// Index is the layer's position in the manifest, 0 being the base.
	Index        int               `json:"index"`
	Digest       string            `json:"digest"`
	DiffID       string            `json:"diffID"`
	MediaType    string            `json:"mediaType"`
	Compressed   SizeRecord        `json:"compressed"`
	Uncompressed SizeRecord        `json:"uncompressed"`
	CreatedBy    string            `json:"createdBy"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// ComparisonRecord sets each image against a baseline.
type ComparisonRecord struct {
	// Baseline is the index in Document.Images of the baseline image.
	Baseline int `json:"baseline"`
	// RatioBasis says which size the table's ratio column uses:
	// "uncompressed" when every image's uncompressed size is known, else
	// "compressed".
	RatioBasis string      `json:"ratioBasis"`
	Rows       []RowRecord `json:"rows"`
}

// RowRecord is one image measured against the baseline.
type RowRecord struct {
	// Image is the index in Document.Images.
	Image int `json:"image"`
	// Compressed and Uncompressed are null when either side is unknown.
	Compressed   *DeltaRecord `json:"compressed"`
	Uncompressed *DeltaRecord `json:"uncompressed"`
	// MatchedBy says when a layer of this image counts as one of the
	// baseline's: "digest" when their digests are equal, "diffID" when
	// their diffIDs are (the digest of the uncompressed tar; by digest
	// where a layer's diffID is unknown). Rows with a docker-archive on
	// either side use "diffID": docker save stores layers uncompressed, so
	// their digests never equal a registry's compressed ones. Reports
	// written before this field existed matched by digest; Decode reads
	// its absence as "digest".
	MatchedBy string `json:"matchedBy"`
	// Shared is what of this image the baseline already has (layers the
	// same by MatchedBy); Unique what pulling it costs someone who has the
	// baseline. Both are in this image's own sizes: a docker-archive's
	// compressed bytes are unknown (null) unless estimated.
	Shared       BytesRecord `json:"shared"`
	Unique       BytesRecord `json:"unique"`
	SharedLayers int         `json:"sharedLayers"`
	// AddedLayers are digests of this image's layers the baseline lacks;
	// RemovedLayers of the baseline's layers this image lacks.
	AddedLayers   []string `json:"addedLayers"`
	RemovedLayers []string `json:"removedLayers"`
}

// DeltaRecord is a size set against the baseline's.
type DeltaRecord struct {
	// DeltaBytes is image − baseline.
	DeltaBytes int64 `json:"deltaBytes"`
	// DeltaPercent is DeltaBytes relative to the baseline; null when the
	// baseline is 0.
	DeltaPercent *float64 `json:"deltaPercent"`
	// Ratio is baseline ÷ image: above 1 the image is that many times
	// smaller. Null when the image is 0.
	Ratio *float64 `json:"ratio"`
	// Provenance is the weaker of the two sizes' provenances.
	Provenance string `json:"provenance"`
}

// BytesRecord pairs a compressed and an uncompressed figure.
type BytesRecord struct {
	Compressed   SizeRecord `json:"compressed"`
	Uncompressed SizeRecord `json:"uncompressed"`
}

// CheckRecord is the outcome of `imgsize check`.
type CheckRecord struct {
	// Passed: every image was read and every budget holds (exit code 0).
	Passed bool `json:"passed"`
	// Budgets counts budgets checked; Failed those exceeded or unknown;
	// Near those that hold at or above WarnAt of their limit; Errors the
	// images (or baselines) that could not be read.
	Budgets int `json:"budgets"`
	Failed  int `json:"failed"`
	Near    int `json:"near"`
	Errors  int `json:"errors"`
	// Results has one entry per image checked, in the order given.
	Results []ImageCheckRecord `json:"results"`
}

// ImageCheckRecord is one image held to its budgets.
type ImageCheckRecord struct {
	// Ref is the image's argument; Image its index in Document.Images,
	// null when it could not be read.
	Ref   string `json:"ref"`
	Image *int   `json:"image"`
	// BaselineRef is the baseline's argument, Baseline its index in
	// Document.Images; both absent without a baseline, and Baseline also
	// absent when the baseline could not be read (Error says why).
	BaselineRef string `json:"baselineRef,omitempty"`
	Baseline    *int   `json:"baseline,omitempty"`
	// GrowthBasis is the size growth was judged on, when a growth budget
	// was set: "compressed" or "uncompressed".
	GrowthBasis string `json:"growthBasis,omitempty"`
	// WarnAt is the fraction of a limit at or above which a holding budget
	// is near it; 0 when no warning was asked for.
	WarnAt  float64        `json:"warnAt"`
	Passed  bool           `json:"passed"`
	Error   string         `json:"error,omitempty"`
	Budgets []BudgetRecord `json:"budgets"`
}

// BudgetRecord is one budget applied to one image.
type BudgetRecord struct {
	// Budget is "max-compressed", "max-uncompressed", "max-layers" or
	// "max-growth".
	Budget string `json:"budget"`
	// Basis is the size measured, "compressed" or "uncompressed"; absent
	// for max-layers.
	Basis string `json:"basis,omitempty"`
	// Unit is "bytes", "layers" or "percent"; Limit, Actual and Margin are
	// in it, whole numbers unless it is "percent".
	Unit  string  `json:"unit"`
	Limit float64 `json:"limit"`
	// Actual is the measured figure (the growth, for max-growth; negative
	// when the image shrank); Margin is Limit − Actual, negative when the
	// budget is exceeded. Both null when Status is "unknown".
	Actual *float64 `json:"actual"`
	Margin *float64 `json:"margin"`
	// Status is "pass", "fail" or "unknown" (the figure could not be
	// known; the gate counts it as a failure).
	Status string `json:"status"`
	// Near: the budget holds, at or above WarnAt of its limit.
	Near bool `json:"near"`
	// Provenance is how Actual was obtained; "unknown" with Status.
	Provenance string `json:"provenance"`
	// Reason explains an unknown status.
	Reason string `json:"reason,omitempty"`
	// Growth is the image's size against its baseline's, for max-growth
	// when both are known.
	Growth *DeltaRecord `json:"growth,omitempty"`
}
