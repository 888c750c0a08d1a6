package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/imgsize/imgsize/pkg/errdefs"
)

func TestExpand(t *testing.T) {
	env := map[string]string{"SERVICE": "api", "SHA": "abc123", "EMPTY": "", "LIMIT": "40MB"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	const file = `defaults:
  max-compressed: ${LIMIT}
  max-layers: ${LAYERS:-20}
images:
  - image: docker://127.0.0.1:5000/${SERVICE}:${SHA}
    baseline: docker://127.0.0.1:5000/${SERVICE}:main
  - image: oci:out/$${SERVICE}-$HOME
    max-uncompressed: ${EMPTY:-1GB}
`
	f, err := Parse("imgsize.yaml", []byte(file), WithLookupEnv(lookup))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Images[0].Image, "docker://127.0.0.1:5000/api:abc123"; got != want {
		t.Errorf("image: got %q, want %q", got, want)
	}
	if got, want := *f.Images[0].Settings.Baseline, "docker://127.0.0.1:5000/api:main"; got != want {
		t.Errorf("baseline: got %q, want %q", got, want)
	}
	// $${ is a literal ${, and $NAME without braces is left alone.
	if got, want := f.Images[1].Image, "oci:out/${SERVICE}-$HOME"; got != want {
		t.Errorf("escaped: got %q, want %q", got, want)
	}
	if got, want := *f.Defaults.MaxCompressed, int64(40_000_000); got != want {
		t.Errorf("max-compressed: got %d, want %d", got, want)
	}
	if got, want := *f.Defaults.MaxLayers, 20; got != want {
		t.Errorf("max-layers default: got %d, want %d", got, want)
	}
	// ":-" takes the default for an empty variable, as the shell does.
	if got, want := *f.Images[1].Settings.MaxUncompressed, int64(1_000_000_000); got != want {
		t.Errorf("max-uncompressed: got %d, want %d", got, want)
	}
}

func TestExpandErrors(t *testing.T) {
	lookup := func(k string) (string, bool) {
		if k == "BIG" {
			return strings.Repeat("x", 5000), true
		}
		return "", k == "EMPTY"
	}
	tests := []struct{ name, file, want string }{
		{"unset", "images:\n  - image: app\n    max-compressed: 1MB\n  - image: ${SERVICE}\n", "imgsize.yaml:4: ${SERVICE} is not set"},
		{"unclosed", "defaults:\n  max-compressed: ${LIMIT\n", "imgsize.yaml:2: \"${LIMIT\": ${ without a closing }"},
		{"bad name", "defaults:\n  max-compressed: ${1X}\n", "imgsize.yaml:2: ${1X}: not a variable name"},
		{"too long", "images:\n  - image: ${BIG}\n", "imgsize.yaml:2: the value is over 4 KiB"},
		// Set but empty expands to empty, and the image check refuses it.
		{"empty image", "images:\n  - image: ${EMPTY}\n", "imgsize.yaml:2: image: expected an image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("imgsize.yaml", []byte(tt.file), WithLookupEnv(lookup))
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error starting %q", err, tt.want)
			}
			if !errors.Is(err, errdefs.ErrUsage) {
				t.Errorf("%v is not a usage error", err)
			}
		})
	}
}
