package schema_test

// A benchmark of Decode on a large generated report.
//
//	go test -run XXX -bench DecodeLarge -benchmem ./pkg/schema/              # a ~55 MB report
//	IMGSIZE_BENCH_LARGE=0 go test -run XXX -bench . -benchtime 1x ./pkg/schema/  # a ~1 MB one, as CI runs it
//
// The report is a valid files report (the kind that grows largest: every
// path of an image's final filesystem may be listed), made once per
// process in memory. Besides MB/s (b.SetBytes) the benchmark reports
// alloc-MB/op (bytes allocated per decode, what the garbage collector must
// chase) and peak-heap-MiB (the largest live heap seen while decoding,
// sampled every 5 ms: what a machine must have). No duration is asserted;
// it fails when the decoded document is not the one written.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/imgsize/imgsize/pkg/schema"
)

// benchRecords is how many records each of the files report's four lists
// holds: about 100 bytes of JSON each, 56 MB in all; a fiftieth of it with
// IMGSIZE_BENCH_LARGE=0.
const benchRecords = 140_000

var (
	benchOnce   sync.Once
	benchReport []byte
	benchErr    error
)

func largeReport(b *testing.B) ([]byte, int) {
	b.Helper()
	n := benchRecords
	if os.Getenv("IMGSIZE_BENCH_LARGE") == "0" {
		n /= 50
	}
	benchOnce.Do(func() { benchReport, benchErr = json.Marshal(filesReport(n)) })
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchReport, n
}

// filesReport is a valid files report with n records in each list.
func filesReport(n int) *schema.Document {
	const layers = 50
	digest := func(i int) string { return fmt.Sprintf("sha256:%064x", i) }
	size := func(v int64) schema.SizeRecord { return schema.SizeRecord{Bytes: &v, Provenance: "exact"} }
	manifest, config := int64(1234), int64(4321)
	img := schema.ImageRecord{
		Ref: "registry.example/app:1.0", Name: "registry.example/app:1.0", Transport: "registry",
		Digest: digest(1), ConfigDigest: digest(2), MediaType: "application/vnd.oci.image.manifest.v1+json",
		Platform: "linux/amd64", ManifestBytes: &manifest, ConfigBytes: &config,
		Compressed: size(1 << 30), Uncompressed: size(3 << 30),
	}
	f := &schema.FilesRecord{Dive: schema.DiveRecord{Efficiency: 0.97}}
	for i := range layers {
		img.Layers = append(img.Layers, schema.LayerRecord{
			Index: i, Digest: digest(100 + i), DiffID: digest(200 + i), MediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
			Compressed: size(int64(i) << 20), Uncompressed: size(int64(i) << 21), CreatedBy: "RUN apt-get install -y package" + fmt.Sprint(i),
		})
		f.Layers = append(f.Layers, schema.LayerFilesRecord{Index: i, Digest: digest(100 + i)})
	}
	path := func(i int) string {
		return fmt.Sprintf("/usr/lib/python3/dist-packages/pkg%05d/module%06d.py", i%5000, i)
	}
	for i := range n {
		f.Largest = append(f.Largest, schema.FileSizeRecord{Path: path(i), Bytes: int64(n - i), Layer: i % layers})
		f.Dirs = append(f.Dirs, schema.DirSizeRecord{Path: path(i), Bytes: int64(n - i), Files: i})
		f.Reclaimable = append(f.Reclaimable, schema.ReclaimRecord{Path: path(i), Bytes: int64(n - i), Layer: i % layers, ByLayer: layers - 1, Why: schema.ReclaimSuperseded})
		f.Dive.Inefficiencies = append(f.Dive.Inefficiencies, schema.InefficiencyRecord{Path: path(i), Count: 2, Bytes: int64(i)})
	}
	return &schema.Document{
		SchemaVersion: schema.Version, Kind: schema.KindFiles,
		Generator: schema.Generator{Name: "imgsize", Version: "v1.0.0"},
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Images:    []schema.ImageRecord{img},
		Files:     f,
	}
}

func BenchmarkDecodeLarge(b *testing.B) {
	data, n := largeReport(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	peak := sampleHeap()
	b.ResetTimer()
	for b.Loop() {
		doc, err := schema.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		if got := len(doc.Files.Largest); got != n {
			b.Fatalf("decoded %d largest files, want %d", got, n)
		}
		if got := doc.Files.Dive.Inefficiencies[n-1].Path; !strings.HasSuffix(got, fmt.Sprintf("module%06d.py", n-1)) {
			b.Fatalf("last inefficiency is %s", got)
		}
	}
	b.StopTimer()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/1e6, "alloc-MB/op")
	b.ReportMetric(peak()/(1<<20), "peak-heap-MiB")
}

// sampleHeap samples the live heap every 5 ms until the returned function
// is called, which returns the largest sample in bytes.
func sampleHeap() func() float64 {
	const name = "/memory/classes/heap/objects:bytes"
	sample := []metrics.Sample{{Name: name}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				read()
				return
			case <-t.C:
				read()
			}
		}
	}()
	return func() float64 {
		close(stop)
		<-done
		return float64(peak)
	}
}
