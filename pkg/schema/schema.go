package schema

import (
	_ "embed"
	"time"
)

// Version is the version of the document this package writes. It changes
// only when a field is removed or changes meaning; new fields may appear
// within a version, and readers ignore fields they do not know.
//
// Version 2 added multi-platform images (Document.Indexes, platform
// comparisons and checks), in which a comparison's rows may each have their
// own baseline (RowRecord.Baseline) — a change of meaning for a reader of
// version 1, where every row was set against Comparison.Baseline. A
// version 1 document is a version 2 document without those fields, so
// Decode reads both (Versions).
const Version = 2

// Versions are the schema versions Decode reads.
var Versions = []int{1, 2}

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
	KindFiles   = "files"
	KindDiff    = "diff"
	// KindTrend: sizes across a repository's tags or saved reports
	// (Document.Trend).
	KindTrend = "trend"
	// KindPackages: `imgsize packages`, the bytes each installed package
	// owns (added within version 2).
	KindPackages = "packages"
)

// Kinds lists every kind, in the order the JSON Schema's enum gives them.
var Kinds = []string{KindInspect, KindCompare, KindCheck, KindFiles, KindDiff, KindTrend, KindPackages}

// Provenances are the values a SizeRecord's provenance takes (the model's
// layers.Provenance).
var Provenances = []string{"exact", "annotation", "gzip-trailer", "zstd-header", "estimated", "unknown", "mixed"}

// The identities layers are matched by in a comparison (RowRecord.MatchedBy).
const (
	// MatchDigestDiffID is what imgsize writes: a layer is shared when its
	// digest is one of the baseline's, recompressed when only its diffID
	// is, unique otherwise (see RowRecord).
	MatchDigestDiffID = "digest+diffID"
	// MatchDigest and MatchDiffID are read in reports written before
	// recompressed layers were told apart: layers were the same when their
	// digests were ("digest"), or, in rows with a docker-archive on either
	// side, when their diffIDs were ("diffID").
	MatchDigest = "digest"
	MatchDiffID = "diffID"
)

// MatchKinds lists every matchedBy value, in the order the JSON Schema's
// enum gives them.
var MatchKinds = []string{MatchDigestDiffID, MatchDigest, MatchDiffID}

// The verdicts of a budget (BudgetRecord.Status).
const (
	StatusPass    = "pass"
	StatusFail    = "fail"
	StatusUnknown = "unknown"
)

// The budgets (BudgetRecord.Budget), named as their flags are.
const (
	BudgetMaxCompressed            = "max-compressed"
	BudgetMaxUncompressed          = "max-uncompressed"
	BudgetMaxLayers                = "max-layers"
	BudgetMaxGrowth                = "max-growth"
	BudgetLowestEfficiency         = "lowest-efficiency"
	BudgetHighestWastedBytes       = "highest-wasted-bytes"
	BudgetHighestUserWastedPercent = "highest-user-wasted-percent"
	BudgetMaxReclaimable           = "max-reclaimable"
	// BudgetMaxIndexCompressed limits a multi-platform image as a whole:
	// IndexRecord.Stored.
	BudgetMaxIndexCompressed = "max-index-compressed"
	// BudgetForbidPackage and BudgetMaxPackageBytes judge the installed
	// packages (BudgetRecord.Subject names the pattern or package).
	BudgetForbidPackage   = "forbid-package"
	BudgetMaxPackageBytes = "max-package-bytes"
)

// Budgets lists every budget, in the order the JSON Schema's enum gives
// them.
var Budgets = []string{
	BudgetMaxCompressed, BudgetMaxUncompressed, BudgetMaxLayers, BudgetMaxGrowth,
	BudgetLowestEfficiency, BudgetHighestWastedBytes, BudgetHighestUserWastedPercent, BudgetMaxReclaimable,
	BudgetMaxIndexCompressed, BudgetForbidPackage, BudgetMaxPackageBytes,
}

// Units are the values a BudgetRecord's unit takes. "ratio" is a fraction
// (dive's efficiency and wasted ÷ user bytes: 0.2 is 20%).
var Units = []string{"bytes", "layers", "percent", "ratio", "packages"}

// The reasons bytes are reclaimable (ReclaimRecord.Why).
const (
	// ReclaimSuperseded: a later layer wrote the same path again.
	ReclaimSuperseded = "superseded"
	// ReclaimDeleted: a later layer deleted the path (a whiteout or an
	// opaque directory).
	ReclaimDeleted = "deleted"
)

// The kinds of difference between two filesystems (DiffEntryRecord.Change).
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// FileTypes are the values a FileInfoRecord's type takes.
var FileTypes = []string{"file", "dir", "symlink", "hardlink", "other"}

// DiffFields are what can differ between two entries of a path
// (DiffEntryRecord.Fields), in the order they are listed.
var DiffFields = []string{"type", "size", "mode", "link", "content"}

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
	// distinct baseline; in a files report, the one image; in a diff, A
	// then B. With several platforms of an index (--platform all, or a
	// list), each platform's image is one entry, its Platform set, and
	// Indexes groups them.
	Images []ImageRecord `json:"images"`
	// Indexes are the multi-platform images read with several platforms;
	// absent otherwise (version 2).
	Indexes []IndexRecord `json:"indexes,omitempty"`
	// Comparison is set when Kind is KindCompare.
	Comparison *ComparisonRecord `json:"comparison,omitempty"`
	// Check is set when Kind is KindCheck.
	Check *CheckRecord `json:"check,omitempty"`
	// Files is set when Kind is KindFiles.
	Files *FilesRecord `json:"files,omitempty"`
	// Diff is set when Kind is KindDiff.
	Diff *DiffRecord `json:"diff,omitempty"`
	// Trend is set when Kind is KindTrend.
	Trend *TrendRecord `json:"trend,omitempty"`
	// Packages is set when Kind is KindPackages.
	Packages *PackagesRecord `json:"packages,omitempty"`
}

// TrendOrders are the values TrendRecord.Order takes.
var TrendOrders = []string{"created", "semver", "recorded", "args", "name"}

// TrendRecord is the outcome of `imgsize trend`: how an image's sizes
// moved across a repository's tags or a series of saved reports, one
// series per platform.
type TrendRecord struct {
	// Repository is the repository whose tags were read; omitted for a
	// trend over saved reports.
	Repository string `json:"repository,omitempty"`
	// Order is how each series' points are ordered, oldest first:
	// "created" (the image config's creation time), "semver" (tags read
	// as versions), "recorded" (the time each report was written), "args"
	// (as given) or "name" (by tag or report label, when no image has a
	// creation time).
	Order string `json:"order"`
	// Tags says how the tags were listed; omitted for saved reports.
	Tags *TagsRecord `json:"tags,omitempty"`
	// Series holds one series per platform.
	Series []TrendSeriesRecord `json:"series"`
	// Notes say what to know to read the trend: points left out, times
	// missing, orders fallen back to.
	Notes []string `json:"notes"`
}

// TagsRecord says how a repository's tags were listed and selected.
type TagsRecord struct {
	// Listed counts the names the registry listed; Matched those the
	// selection kept; Measured those read (at most --max-tags); Invalid
	// the listed names that are not valid tags (skipped).
	Listed   int `json:"listed"`
	Matched  int `json:"matched"`
	Measured int `json:"measured"`
	Invalid  int `json:"invalid"`
	// Truncated: the registry listed more names than imgsize reads.
	Truncated bool `json:"truncated"`
}

// TrendSeriesRecord is one platform's points, oldest first.
type TrendSeriesRecord struct {
	// Platform is os/arch[/variant], default variants left out, or
	// "unknown".
	Platform string             `json:"platform"`
	Points   []TrendPointRecord `json:"points"`
	// Compressed and Uncompressed set the last point against the first;
	// null when either size is unknown.
	Compressed   *DeltaRecord `json:"compressed"`
	Uncompressed *DeltaRecord `json:"uncompressed"`
}

// TrendPointRecord is one tag or report of a series.
type TrendPointRecord struct {
	// Label is the tag, or the report's path.
	Label string `json:"label"`
	// Image is the position of its image in Document.Images.
	Image int `json:"image"`
	// Time is what the point is ordered by: the image's creation time, or
	// the report's; null when not known (never invented).
	Time *time.Time `json:"time"`
	// Compressed and Uncompressed set the point against the one before;
	// null for the first point and when either size is unknown.
	Compressed   *DeltaRecord `json:"compressed"`
	Uncompressed *DeltaRecord `json:"uncompressed"`
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
	// Created is the config's creation time; omitted when the config does
	// not say and in reports written before it existed.
	Created *time.Time `json:"created,omitempty"`
	// ManifestBytes is the manifest's size; omitted when SyntheticManifest.
	ManifestBytes *int64 `json:"manifestBytes,omitempty"`
	// ConfigBytes is the config's size; null when the source does not
	// hand the config out (a docker-daemon: image read from the engine's
	// metadata).
	ConfigBytes *int64 `json:"configBytes"`
	// Compressed and Uncompressed are totals over Layers.
	Compressed   SizeRecord    `json:"compressed"`
	Uncompressed SizeRecord    `json:"uncompressed"`
	Layers       []LayerRecord `json:"layers"`
	// Recorded is set when the figures were read from a saved report
	// rather than measured in this run: Ref then names the report, and
	// Name, Transport and the rest are as that report recorded them.
	Recorded *RecordedRecord `json:"recorded,omitempty"`
	// History is the image config's history, oldest step first, as
	// `docker history` lists it (empty steps included); omitted when the
	// source gives none and in reports written before it existed.
	History []StepRecord `json:"history,omitempty"`
}

// IndexRecord is a multi-platform image (an OCI index or a Docker manifest
// list) read for several of its platforms.
type IndexRecord struct {
	// Ref is the argument as the user gave it; Name the resolved reference.
	Ref       string `json:"ref"`
	Name      string `json:"name"`
	Transport string `json:"transport"`
	// Digest, MediaType and ManifestBytes describe the index manifest;
	// omitted when the argument named a single image, or a layout whose
	// index.json lists the images itself (no index blob is stored).
	Digest        string `json:"digest,omitempty"`
	MediaType     string `json:"mediaType,omitempty"`
	ManifestBytes *int64 `json:"manifestBytes,omitempty"`
	// Platforms are the selected platform images, as positions in
	// Document.Images, in index order.
	Platforms []int `json:"platforms"`
	// Unselected counts the index's platform images not selected (their
	// bytes are in Stored all the same).
	Unselected int `json:"unselected"`
	// Missing are platforms asked for that the index lacks.
	Missing []string `json:"missing"`
	// Artifacts are the index's manifests that are not platform images:
	// attestations, signatures, other artifacts.
	Artifacts []ArtifactRecord `json:"artifacts"`
	// Stored is what a registry stores for the whole index and a full
	// mirror pulls: every blob once (index, manifests, configs, layers of
	// every platform and artifact), compressed as stored.
	Stored SizeRecord `json:"stored"`
	// SharedLayers are the layers present in more than one of Platforms.
	SharedLayers []SharedLayerRecord `json:"sharedLayers"`
}

// ArtifactRecord is a manifest in an index that is not a platform image.
type ArtifactRecord struct {
	// Kind is "attestation", "signature" or "artifact".
	Kind      string `json:"kind"`
	Digest    string `json:"digest"`
	MediaType string `json:"mediaType"`
	// Subject is the digest of the manifest it describes, omitted if none.
	Subject string `json:"subject,omitempty"`
	// Bytes is its manifest and every blob it references, as stored.
	Bytes SizeRecord `json:"bytes"`
	// Blobs is how many blobs (config and layers) it references.
	Blobs int `json:"blobs"`
}

// SharedLayerRecord is a layer several platform images of an index hold:
// stored once, counted once in IndexRecord.Stored.
type SharedLayerRecord struct {
	Digest     string     `json:"digest"`
	Compressed SizeRecord `json:"compressed"`
	// Images are positions in Document.Images.
	Images []int `json:"images"`
}

// StepRecord is one step of an image's history.
type StepRecord struct {
	// Created is when the step ran, omitted when the history does not say.
	Created   *time.Time `json:"created,omitempty"`
	CreatedBy string     `json:"createdBy"`
	Comment   string     `json:"comment,omitempty"`
	// EmptyLayer: the step made no layer (ENV, WORKDIR, CMD…).
	EmptyLayer bool `json:"emptyLayer"`
	// Layer is the index in the image's layers of the layer the step
	// made; null for an empty step, and for every step when the history's
	// non-empty steps do not number the layers.
	Layer *int `json:"layer"`
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
	// "compressed". In a platform comparison, the first compared
	// platform's (each PlatformCompareRecord says its own).
	RatioBasis string      `json:"ratioBasis"`
	Rows       []RowRecord `json:"rows"`
	// Platforms is set in a comparison of multi-platform images, platform
	// by platform (version 2): Document.Indexes are the images compared,
	// the baseline first, and Rows holds every platform's rows, each with
	// its Platform and Baseline. Baseline is then the first compared
	// platform's baseline image.
	Platforms []PlatformCompareRecord `json:"platforms,omitempty"`
	// Stored sets each index's Stored against the baseline index's, one
	// per entry of Document.Indexes (the baseline's own first); set with
	// Platforms.
	Stored []*DeltaRecord `json:"stored,omitempty"`
}

// PlatformCompareRecord is one platform across the indexes compared.
type PlatformCompareRecord struct {
	// Platform is os/arch[/variant] with default variants left out
	// (linux/arm64 and linux/arm64/v8 are one platform), "#2"… appended
	// when an index lists it more than once.
	Platform string `json:"platform"`
	// Images holds, per entry of Document.Indexes, the position in
	// Document.Images of that index's image of the platform; null where
	// the index lacks it.
	Images []*int `json:"images"`
	// Baseline is the baseline index's image of the platform; null when
	// the baseline lacks it, and then nothing is compared: the platform is
	// listed as present only where it is.
	Baseline *int `json:"baseline"`
	// RatioBasis is as Comparison.RatioBasis, for this platform's rows;
	// empty when nothing is compared.
	RatioBasis string `json:"ratioBasis,omitempty"`
	// Rows are positions in Comparison.Rows of this platform's rows.
	Rows []int `json:"rows"`
}

// RowRecord is one image measured against the baseline.
type RowRecord struct {
	// Image is the index in Document.Images.
	Image int `json:"image"`
	// Baseline is the index in Document.Images of the image this row is
	// set against; absent where it is Comparison.Baseline (always so in
	// version 1). Platform names the platform compared, in a platform
	// comparison.
	Baseline *int   `json:"baseline,omitempty"`
	Platform string `json:"platform,omitempty"`
	// Compressed and Uncompressed are null when either side is unknown.
	Compressed   *DeltaRecord `json:"compressed"`
	Uncompressed *DeltaRecord `json:"uncompressed"`
	// MatchedBy says how this image's layers were matched to the
	// baseline's. imgsize writes "digest+diffID" (MatchDigestDiffID): each
	// layer (each blob once) is shared when its digest is one of the
	// baseline's layer digests (the same blob), recompressed when only
	// its diffID is (the same content in another blob: compressed another
	// way, or stored uncompressed by a docker-archive), unique otherwise.
	// Reports written earlier say "digest" or "diffID" and have no
	// Recompressed: there layers were the same when their digests were
	// ("digest"; a recompressed layer was counted unique) or when their
	// diffIDs were ("diffID", rows with a docker-archive on either side; a
	// recompressed layer was counted shared). Reports written before this
	// field existed matched by digest; Decode reads its absence as
	// "digest".
	MatchedBy string `json:"matchedBy"`
	// Shared is what of this image the baseline already has as the same
	// blobs: someone who holds the baseline pulls none of it. Unique is
	// the content the baseline lacks. Recompressed is the content the
	// baseline has in other blobs: not new, but pulled again; so pulling
	// this image costs someone who holds the baseline Recompressed +
	// Unique compressed bytes. All three are in this image's own sizes: a
	// docker-archive's compressed bytes are unknown (null) unless
	// estimated. Recompressed is absent in reports written before it
	// existed (see MatchedBy).
	Shared       BytesRecord  `json:"shared"`
	Recompressed *BytesRecord `json:"recompressed,omitempty"`
	Unique       BytesRecord  `json:"unique"`
	SharedLayers int          `json:"sharedLayers"`
	// RecompressedLayers are digests of this image's recompressed layers,
	// in its order; their count is the number of recompressed layers.
	// Each one's diffID (in Document.Images) names the baseline layer it
	// matches. Absent where Recompressed is; empty, not absent, when no
	// layer is recompressed.
	RecompressedLayers []string `json:"recompressedLayers"`
	// AddedLayers are digests of this image's unique layers (content the
	// baseline lacks); RemovedLayers of the baseline's layers whose blob
	// and content this image both lack. Neither lists a recompressed layer
	// nor the baseline layer it matches.
	AddedLayers   []string `json:"addedLayers"`
	RemovedLayers []string `json:"removedLayers"`
	// Packages sets this image's packages against the baseline's, with
	// compare --packages; omitted otherwise and in the baseline's row.
	Packages *PackageDiffRecord `json:"packages,omitempty"`
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
	// Platform names the platform judged when the image is one platform
	// of a multi-platform image checked platform by platform; Index is
	// set, and Image null, on the check of such an image as a whole (the
	// max-index-compressed budget): its position in Document.Indexes.
	Platform string `json:"platform,omitempty"`
	Index    *int   `json:"index,omitempty"`
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
	// Why explains a failed growth budget; omitted otherwise.
	Why *WhyRecord `json:"why,omitempty"`
}

// WhyRecord says why an image grew against its baseline.
type WhyRecord struct {
	// Layers are the image's layers the baseline lacks (as blob and as
	// content), largest uncompressed first: the build steps that added
	// bytes.
	Layers []WhyLayerRecord `json:"layers"`
	// Dirs are the directories whose regular-file bytes grew most, from
	// comparing both images file by file; omitted when that was not done
	// (Note says why).
	Dirs []WhyDirRecord `json:"dirs,omitempty"`
	// Note says what the why lacks and why.
	Note string `json:"note,omitempty"`
}

// WhyLayerRecord is a layer only the image has.
type WhyLayerRecord struct {
	Digest       string     `json:"digest"`
	CreatedBy    string     `json:"createdBy"`
	Compressed   SizeRecord `json:"compressed"`
	Uncompressed SizeRecord `json:"uncompressed"`
}

// WhyDirRecord is a directory that grew: its regular-file bytes in the
// baseline and in the image (the whole subtree at the roll-up's depth).
type WhyDirRecord struct {
	Path       string `json:"path"`
	BytesA     int64  `json:"bytesA"`
	BytesB     int64  `json:"bytesB"`
	DeltaBytes int64  `json:"deltaBytes"`
}

// BudgetRecord is one budget applied to one image.
type BudgetRecord struct {
	// Budget is one of Budgets: "max-compressed", "max-uncompressed",
	// "max-layers", "max-growth", or a file-level budget measured by
	// reading every layer: "lowest-efficiency",
	// "highest-wasted-bytes" and "highest-user-wasted-percent" (dive's CI
	// rules, with dive's definitions) and "max-reclaimable".
	Budget string `json:"budget"`
	// Basis is the size measured, "compressed" or "uncompressed"; absent
	// for max-layers and the file-level budgets.
	Basis string `json:"basis,omitempty"`
	// Unit is one of Units; Limit, Actual and Margin are in it, whole
	// numbers for "bytes" and "layers".
	Unit  string  `json:"unit"`
	Limit float64 `json:"limit"`
	// Min: Limit is a minimum (lowest-efficiency), not a maximum.
	Min bool `json:"min,omitempty"`
	// Actual is the measured figure (the growth, for max-growth; negative
	// when the image shrank); Margin is the headroom left, negative when
	// the budget is broken: Limit − Actual, or Actual − Limit when Min.
	// Both null when Status is "unknown".
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
	// Subject is what a package budget is about: the pattern of
	// forbid-package, the package of max-package-bytes.
	Subject string `json:"subject,omitempty"`
	// Matches are the installed packages a forbid-package pattern
	// matched, each "NAME VERSION (KIND)".
	Matches []string `json:"matches,omitempty"`
}

// CountRecord is a number of filesystem entries and the bytes of the
// regular files among them.
type CountRecord struct {
	// Entries counts every entry: regular files, directories, links and
	// others.
	Entries int `json:"entries"`
	// Bytes is the sum of the regular files' sizes.
	Bytes int64 `json:"bytes"`
}

// FilesRecord is the file-level analysis of one image (`imgsize files`).
// Every byte count in it is regular-file bytes of the layers' tar entries:
// uncompressed and exact, from reading every layer. Paths are absolute
// ("/usr/local/go"); layers are indices in the image's layers.
type FilesRecord struct {
	// Image is the index in Document.Images of the image analysed.
	Image int `json:"image"`
	// Filesystem is the final filesystem, after every layer and whiteout:
	// its entries and the bytes of its regular files (the `files` size;
	// hard links count once).
	Filesystem CountRecord `json:"filesystem"`
	// Layers is what each layer did to the filesystem below it, one
	// record per layer in the image's order.
	Layers []LayerFilesRecord `json:"layers"`
	// Largest are the largest regular files of the final filesystem,
	// largest first; Dirs its largest directories (to the depth asked).
	Largest []FileSizeRecord `json:"largest"`
	Dirs    []DirSizeRecord  `json:"dirs"`
	// Dive are dive's figures, defined exactly as dive defines them.
	Dive DiveRecord `json:"dive"`
	// ReclaimableBytes are the bytes a better build would not ship: every
	// copy a later layer superseded and every file a later layer deleted:
	// the sum of Reclaimable's Bytes.
	ReclaimableBytes int64 `json:"reclaimableBytes"`
	// Reclaimable are those bytes path by path, largest first.
	Reclaimable []ReclaimRecord `json:"reclaimable"`
	// Hints are recognised patterns of bloat, what they cost and the fix.
	Hints []HintRecord `json:"hints"`
}

// LayerFilesRecord is what one layer did to the filesystem below it.
type LayerFilesRecord struct {
	// Index is the layer's index in the image's layers; Digest its digest,
	// as there (the image's layer record has its createdBy).
	Index  int    `json:"index"`
	Digest string `json:"digest"`
	// Added are paths the layer creates; Changed paths it writes again
	// (any entry over an existing one, even with equal content); Deleted
	// paths it removes by whiteout or opaque directory, with the bytes the
	// deleted regular files held.
	Added   CountRecord `json:"added"`
	Changed CountRecord `json:"changed"`
	Deleted CountRecord `json:"deleted"`
	// TarBytes is the sum of the layer's tar entry sizes: dive's layer
	// size.
	TarBytes int64 `json:"tarBytes"`
}

// FileSizeRecord is a regular file of the final filesystem.
type FileSizeRecord struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	// Layer is the layer that wrote the file.
	Layer int `json:"layer"`
}

// DirSizeRecord is a directory of the final filesystem.
type DirSizeRecord struct {
	Path string `json:"path"`
	// Bytes and Files are the bytes and the number of the regular files
	// under the directory, at any depth.
	Bytes int64 `json:"bytes"`
	Files int   `json:"files"`
}

// DiveRecord are dive's figures (dive's filetree/efficiency.go and
// image/analysis.go), so they can be set against dive's and its CI rules
// carried over.
type DiveRecord struct {
	// Efficiency is the sum over paths of the smallest size seen ÷ the sum
	// of all sizes seen, from 0 to 1 (1 when nothing was seen).
	Efficiency float64 `json:"efficiency"`
	// WastedBytes is the sum of Inefficiencies' Bytes: every copy of a path
	// found in more than one layer, the copy kept included (dive#684).
	WastedBytes int64 `json:"wastedBytes"`
	// SizeBytes is the sum of every layer's tar entry sizes;
	// UserSizeBytes the same without the first layer.
	SizeBytes     int64 `json:"sizeBytes"`
	UserSizeBytes int64 `json:"userSizeBytes"`
	// UserWastedPercent is WastedBytes ÷ UserSizeBytes, a fraction as in
	// dive (0.2 is 20%); null when UserSizeBytes is 0, where dive divides
	// by zero.
	UserWastedPercent *float64 `json:"userWastedPercent"`
	// Inefficiencies are dive's inefficient paths, largest first.
	Inefficiencies []InefficiencyRecord `json:"inefficiencies"`
}

// InefficiencyRecord is a path found in more than one layer.
type InefficiencyRecord struct {
	Path string `json:"path"`
	// Count is the number of layers the path is in; Bytes dive's
	// cumulative size over all of them, the copy kept included.
	Count int   `json:"count"`
	Bytes int64 `json:"bytes"`
}

// ReclaimRecord is bytes a layer added that the final filesystem does not
// show.
type ReclaimRecord struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
	// Layer added the bytes; ByLayer is the later layer that superseded
	// or deleted them, as Why says (ReclaimSuperseded, ReclaimDeleted).
	Layer   int    `json:"layer"`
	ByLayer int    `json:"byLayer"`
	Why     string `json:"why"`
}

// HintRecord is a recognised pattern of bloat.
type HintRecord struct {
	// ID is stable, for tools: "toolchain-in-runtime",
	// "package-manager-cache", "deleted-in-later-layer",
	// "duplicate-content"; new ones may appear within a version.
	ID    string `json:"id"`
	Title string `json:"title"`
	// Bytes is what following the hint would save.
	Bytes int64 `json:"bytes"`
	// Paths are the paths concerned, largest first (a few); Layers the
	// layers responsible.
	Paths  []string `json:"paths"`
	Layers []int    `json:"layers"`
	// Fix is the concrete change to make.
	Fix string `json:"fix"`
}

// DiffRecord is what differs between the final filesystems of two images
// (`imgsize diff A B`). Byte counts are regular-file bytes, uncompressed
// and exact; paths are absolute.
type DiffRecord struct {
	// ImageA and ImageB are the indices in Document.Images of A and B.
	ImageA int `json:"imageA"`
	ImageB int `json:"imageB"`
	// Content: file contents were compared by digest. Without it a path
	// counts as changed only when its type, size, mode or link target
	// differ.
	Content bool `json:"content"`
	// FilesystemA and FilesystemB are the two final filesystems' totals.
	FilesystemA CountRecord `json:"filesystemA"`
	FilesystemB CountRecord `json:"filesystemB"`
	// Added, Removed and Changed count every difference, listed or not,
	// with the bytes involved: B's for added and changed paths, A's for
	// removed ones.
	Added   CountRecord `json:"added"`
	Removed CountRecord `json:"removed"`
	Changed CountRecord `json:"changed"`
	// Dirs roll the differences up by directory, largest |DeltaBytes|
	// first (the top ones).
	Dirs []DiffDirRecord `json:"dirs"`
	// Entries are the differences with the largest |DeltaBytes| first (the
	// top ones), a directory added or removed whole listed once for
	// everything under it (see DiffEntryRecord.Subtree).
	Entries []DiffEntryRecord `json:"entries"`
	// Packages is what differs between the two images' packages, with
	// `imgsize diff --packages`; absent otherwise.
	Packages *PackageDiffRecord `json:"packages,omitempty"`
}

// DiffDirRecord is one row of the roll-up by directory. Each path belongs
// to one row: that of the directory holding it, cut to the roll-up's depth
// ("/" for paths at the top). So with depth 2, /usr/local/go/bin/go and
// /usr/local/x are in /usr/local's row, /usr/y in /usr's and /etc in
// "/"'s: rows do not overlap, and their DeltaBytes add up to the
// difference of the two filesystems' bytes. Only rows with a difference
// are listed.
type DiffDirRecord struct {
	Path string `json:"path"`
	// BytesA and BytesB are the regular-file bytes of the row's paths (all
	// of them, not only those that differ) in each filesystem: the whole
	// subtree for a directory at the depth limit, the files directly in it
	// for a shallower one. DeltaBytes is BytesB − BytesA.
	BytesA     int64 `json:"bytesA"`
	BytesB     int64 `json:"bytesB"`
	DeltaBytes int64 `json:"deltaBytes"`
	// Added, Removed and Changed count the row's paths that differ, every
	// path (directories too) on its own.
	Added   int `json:"added"`
	Removed int `json:"removed"`
	Changed int `json:"changed"`
}

// DiffEntryRecord is a path that differs between the two filesystems.
type DiffEntryRecord struct {
	Path string `json:"path"`
	// Change is ChangeAdded (only in B), ChangeRemoved (only in A) or
	// ChangeChanged (in both, differing in Fields).
	Change string `json:"change"`
	// A and B are the path's entry in each filesystem; null where absent.
	A *FileInfoRecord `json:"a"`
	B *FileInfoRecord `json:"b"`
	// DeltaBytes is B's bytes − A's bytes.
	DeltaBytes int64 `json:"deltaBytes"`
	// Fields names what differs for a changed path, in DiffFields' order;
	// empty for added and removed paths.
	Fields []string `json:"fields"`
	// Subtree is set on a directory added or removed whole, which stands
	// for everything under it: the paths beneath it (itself not included)
	// and the bytes of their regular files, which DeltaBytes is (negative
	// when removed). The paths beneath are not listed on their own.
	Subtree *CountRecord `json:"subtree,omitempty"`
}

// FileInfoRecord is one entry of a final filesystem.
type FileInfoRecord struct {
	// Type is one of FileTypes.
	Type string `json:"type"`
	// Bytes is a regular file's size; for a hard link, the content it
	// alone keeps once its target was overwritten or deleted, else 0; 0
	// for other types.
	Bytes int64 `json:"bytes"`
	// Mode is the permission and special bits (0o7777) as a number: 0755
	// octal is 493.
	Mode int64 `json:"mode"`
	// Linkname is the target of a symlink or hard link.
	Linkname string `json:"linkname,omitempty"`
	// Digest is "sha256:…" of a regular file's content, when contents
	// were read.
	Digest string `json:"digest,omitempty"`
	// Layer is the layer of this entry's image that last wrote it.
	Layer int `json:"layer"`
}

// PackagesRecord attributes every regular-file byte of one image's final
// filesystem to the package that installed it, or to none: the bytes of
// Packages and Unowned add up to Total's exactly.
type PackagesRecord struct {
	// Image is the index in Document.Images of the image analysed.
	Image int `json:"image"`
	// Total is the final filesystem's regular files.
	Total FileCountRecord `json:"total"`
	// Packages are every package read, the most bytes first.
	Packages []PackageRecord `json:"packages"`
	// Unowned are the regular files no database claims.
	Unowned OwnedRecord `json:"unowned"`
	// Databases are the package databases found, read or not.
	Databases []PackageDatabaseRecord `json:"databases"`
	// Notes say what was not read, or was with a caveat.
	Notes []string     `json:"notes"`
	Hints []HintRecord `json:"hints"`
}

// FileCountRecord is a number of regular files and their bytes.
type FileCountRecord struct {
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// OwnedRecord is regular files owned, in total and by the layer that
// wrote each.
type OwnedRecord struct {
	Files  int                `json:"files"`
	Bytes  int64              `json:"bytes"`
	Layers []LayerCountRecord `json:"layers"`
}

// LayerCountRecord is the regular files one layer wrote.
type LayerCountRecord struct {
	Layer int   `json:"layer"`
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
}

// The kinds of package database (PackageRecord.Kind).
var PackageKinds = []string{"dpkg", "apk", "rpm", "python", "npm", "go", "java"}

// PackageRecord is one installed package.
type PackageRecord struct {
	Kind    string `json:"kind"`
	Name    string `json:"name"`
	Version string `json:"version"`
	// Files and Bytes: the regular files of the final filesystem the
	// package owns.
	Files int   `json:"files"`
	Bytes int64 `json:"bytes"`
	// DeclaredBytes is the size the database states (dpkg's
	// Installed-Size × 1024, apk's I:); null when it states none.
	DeclaredBytes *int64 `json:"declaredBytes"`
	// Disagrees: DeclaredBytes and Bytes differ by more than rounding
	// explains.
	Disagrees bool               `json:"disagrees,omitempty"`
	Layers    []LayerCountRecord `json:"layers"`
	// GoVersion and Modules: a Go binary's toolchain and linked modules.
	GoVersion string   `json:"goVersion,omitempty"`
	Modules   []string `json:"modules,omitempty"`
}

// PackageDatabaseRecord is one package database found.
type PackageDatabaseRecord struct {
	Kind     string `json:"kind"`
	Path     string `json:"path"`
	Read     bool   `json:"read"`
	Note     string `json:"note,omitempty"`
	Packages int    `json:"packages"`
}

// The ways a package differs between two images (PackageChangeRecord.Change).
var PackageChanges = []string{"added", "removed", "upgraded", "resized"}

// PackageDiffRecord is what differs between two images' packages.
type PackageDiffRecord struct {
	// UnownedDeltaBytes is B's unowned bytes minus A's.
	UnownedDeltaBytes int64 `json:"unownedDeltaBytes"`
	// Changes are the largest |DeltaBytes| first.
	Changes []PackageChangeRecord `json:"changes"`
	// Notes say which side has a package database that was not read, whose
	// packages may show as added or removed when they are not; omitted
	// when every database was read.
	Notes []string `json:"notes,omitempty"`
}

// PackageChangeRecord is one package that differs.
type PackageChangeRecord struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	Change     string `json:"change"`
	OldVersion string `json:"oldVersion,omitempty"`
	NewVersion string `json:"newVersion,omitempty"`
	OldBytes   int64  `json:"oldBytes"`
	NewBytes   int64  `json:"newBytes"`
	DeltaBytes int64  `json:"deltaBytes"`
}
