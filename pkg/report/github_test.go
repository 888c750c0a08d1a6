package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/analysis"
)

func renderAnnotations(t *testing.T, run *analysis.CheckRun, binary bool) string {
	t.Helper()
	var buf bytes.Buffer
	if err := GitHubAnnotations(&buf, run, Options{Binary: binary}); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestGitHubAnnotations(t *testing.T) {
	run := &analysis.CheckRun{Images: []analysis.ImageCheck{
		// 405,000,000 B against 400 MB: 5,000,000 over. Two layers of
		// five: holds, not near. Growth 3,999,000 / 401,001,000 = 0.997%
		// of a 1% budget: near.
		checked(sharedImage(), singleImage(), analysis.Budgets{
			MaxCompressed: maxBytes(400 * mb), MaxLayers: maxLayers(5), MaxGrowth: growthPercent(1), WarnAt: 0.9,
		}),
		checked(archiveImage(), nil, analysis.Budgets{MaxCompressed: maxBytes(500 * mb)}),
		// ~7,350,000 B from the gzip trailer over 5 MB.
		checked(trailerImage(), nil, analysis.Budgets{MaxUncompressed: maxBytes(5 * mb)}),
		{Arg: "example.com/app:missing", Err: errors.New("reading example.com/app:missing: MANIFEST_UNKNOWN: manifest unknown")},
	}}
	want := []string{
		"::error title=imgsize%3A max-compressed exceeded::example.com/app:shared: compressed size 405 MB exceeds the 400 MB budget by 5.00 MB",
		"::warning title=imgsize%3A max-growth near its limit::example.com/app:shared: compressed growth +0.997%25 (+4.00 MB) against example.com/app:single is within 0.003%25 of the 1%25 budget", // % escaped: the runner reads %25 as %
		"::error title=imgsize%3A max-compressed unknown::docker-archive:single.tar: max-compressed could not be judged: the compressed size is not known: the archive stores this layer uncompressed; its compressed size depends on how it is pushed; the gate counts this as a failure",
		"::error title=imgsize%3A max-uncompressed exceeded::example.com/app:deps: uncompressed size 7.35 MB exceeds the 5.00 MB budget by 2.35 MB (provenance: gzip-trailer)",
		"::error title=imgsize%3A image unreadable::example.com/app:missing: reading example.com/app:missing: MANIFEST_UNKNOWN: manifest unknown",
	}
	got := strings.Split(strings.TrimSuffix(renderAnnotations(t, run, false), "\n"), "\n")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}

	// --binary: 405,000,000 B = 386 MiB; 400,000,000 B = 381 MiB.
	out := renderAnnotations(t, run, true)
	if !strings.Contains(out, "compressed size 386 MiB exceeds the 381 MiB budget by 4.77 MiB") {
		t.Errorf("binary units:\n%s", out)
	}

	golden(t, "check_mixed.github.golden", []byte(renderAnnotations(t, mixedRun(), false)))
}

// A clean run, without near budgets, says nothing: a log full of passes
// would bury the annotations that matter.
func TestGitHubAnnotationsQuietWhenPassing(t *testing.T) {
	if out := renderAnnotations(t, passRun(), false); out != "" {
		t.Errorf("annotations for a passing run:\n%s", out)
	}
	if out := renderAnnotations(t, &analysis.CheckRun{}, false); out != "" {
		t.Errorf("annotations for an empty run:\n%s", out)
	}
}

func TestWorkflowCommandEscaping(t *testing.T) {
	tests := []struct {
		name, title, message, want string
	}{
		{"plain", "imgsize: max-layers exceeded", "a: b, c", "::error title=imgsize%3A max-layers exceeded::a: b, c"},
		{"percent", "100%", "50% of %0A", "::error title=100%25::50%25 of %250A"},
		{"newlines", "a\nb\rc", "x\r\ny\n", "::error title=a%0Ab%0Dc::x%0D%0Ay%0A"},
		{"colon and comma in title only", "k:v,w", "k:v,w", "::error title=k%3Av%2Cw::k:v,w"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := workflowCommand("error", tt.title, tt.message); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}

	// Through the public function: an argument and error with every
	// character the runner reads stay on one line and intact.
	run := &analysis.CheckRun{Images: []analysis.ImageCheck{{
		Arg: "oci:dir,x:tag",
		Err: errors.New("line one\nline two: 100% broken, really"),
	}}}
	want := "::error title=imgsize%3A image unreadable::oci:dir,x:tag: line one%0Aline two: 100%25 broken, really\n"
	if got := renderAnnotations(t, run, false); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
