package main

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
)

// stderrLines splits stderr into its lines, without the final newline.
func stderrLines(s string) []string {
	return strings.Split(strings.TrimRight(s, "\n"), "\n")
}

// TestUsageErrors: every mistake in how imgsize is called exits 2 with one
// "imgsize: …" line and nothing on stdout, whichever layer notices it
// (cobra's command lookup and argument checks, flag parsing, the source).
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	tests := []struct {
		name string
		args []string
		want string // a fragment the one-line error must contain
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "imgsize"`},
		{"unknown command suggests", []string{"inspct", "x"}, `did you mean "inspect"?`},
		{"unknown command after flags", []string{"--stats", "bogus"}, `unknown command "bogus"`},
		{"version takes no arguments", []string{"version", "extra"}, "no arguments"},
		{"completion shell takes no arguments", []string{"completion", "bash", "extra"}, "extra"},
		{"inspect needs an image", []string{"inspect"}, "need at least 1"},
		{"compare needs two", []string{"compare", "oci:" + dir + ":big"}, "need at least 2"},
		{"unknown flag", []string{"inspect", "--nope", "x"}, "unknown flag"},
		{"unknown flag on version", []string{"version", "--nope"}, "unknown flag"},
		{"flag without value", []string{"inspect", "oci:" + dir + ":big", "--format"}, "needs an argument"},
		{"bad format", []string{"inspect", "-f", "xml", "oci:" + dir + ":big"}, "xml"},
		{"bad platform", []string{"inspect", "--platform", "linux", "oci:" + dir + ":big"}, "platform"},
		{"bad jobs", []string{"inspect", "--jobs", "0", "oci:" + dir + ":big"}, "--jobs"},
		{"bad timeout", []string{"inspect", "--timeout", "soon", "oci:" + dir + ":big"}, "timeout"},
		{"unknown transport", []string{"inspect", "ftp:/some/where"}, `unknown transport "ftp"`},
		{"ambiguous layout", []string{"inspect", "oci:" + dir}, "choose one with :TAG"},
		{"credentials in reference", []string{"inspect", "docker://u:p@127.0.0.1:1/app:v1"}, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runInProcess(t, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", r.code, exitUsage, r.stderr)
			}
			if lines := stderrLines(r.stderr); len(lines) != 1 || !strings.HasPrefix(lines[0], "imgsize: ") {
				t.Errorf("stderr is not one 'imgsize: …' line: %q", r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr %q does not contain %q", r.stderr, tt.want)
			}
			if r.stdout != "" {
				t.Errorf("stdout not empty on a usage error: %q", r.stdout)
			}
		})
	}

	// Not mistakes: no command shows the help; help on an unknown topic
	// is still help.
	for _, args := range [][]string{nil, {"--help"}, {"help"}, {"inspect", "--help"}} {
		r := runInProcess(t, args...)
		if r.code != exitOK || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
			t.Errorf("imgsize %q: exit %d, stdout %.40q…, stderr %q; want 0 and the help", args, r.code, r.stdout, r.stderr)
		}
	}
}

// TestCredentialsNeverEchoed: a password typed into a reference must not
// reach stdout or stderr, whichever message would echo the argument.
func TestCredentialsNeverEchoed(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	const secret = "hunter2"
	tests := []struct {
		name string
		args []string
	}{
		{"docker transport", []string{"inspect", "docker://bob:" + secret + "@127.0.0.1:5999/x:y"}},
		{"bare reference", []string{"inspect", "bob:" + secret + "@127.0.0.1:5999/x:y"}},
		{"with --stats", []string{"inspect", "--stats", "docker://bob:" + secret + "@127.0.0.1:5999/x:y"}},
		{"second image of compare", []string{"compare", "oci:" + dir + ":big", "bob:" + secret + "@127.0.0.1:5999/x:y"}},
		{"as a command", []string{"bob:" + secret + "@127.0.0.1:5999/x:y"}},
		{"user only", []string{"inspect", secret + "@127.0.0.1:5999/x:y"}},
		// Forms a first redaction missed: no '/' after the '@', and a '/'
		// or an '@' inside the password.
		{"no path, docker transport", []string{"inspect", "docker://user:" + secret + "@alpine"}},
		{"no path, bare", []string{"inspect", "user:" + secret + "@alpine"}},
		{"slash in password", []string{"inspect", "user:pa/" + secret + "@127.0.0.1:5999/repo"}},
		{"at in password", []string{"inspect", "docker://user:p@" + secret + "@127.0.0.1:5999/repo"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := imgsize(t, []string{"DOCKER_CONFIG=" + t.TempDir()}, tt.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", r.code, exitUsage, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("the credential reached the output:\nstdout %q\nstderr %q", r.stdout, r.stderr)
			}
			if lines := stderrLines(r.stderr); len(lines) != 1 {
				t.Errorf("stderr is not one line: %q", r.stderr)
			}
		})
	}
}

// TestCanceledContext: once the context is done the run is an interrupted
// one, exit 130 with one fixed line, even if the command itself finished.
func TestCanceledContext(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "r.json")
	for _, args := range [][]string{
		{"version"}, // returns nil
		{"inspect", "-o", out, "oci:" + dir + ":big"}, // returns context.Canceled
	} {
		var stdout, stderr strings.Builder
		code := run(ctx, args, nil, &stdout, &stderr)
		if code != exitInterrupted {
			t.Errorf("%q: exit %d, want %d", args, code, exitInterrupted)
		}
		if got := stderr.String(); got != "imgsize: interrupted\n" {
			t.Errorf("%q: stderr %q, want exactly %q", args, got, "imgsize: interrupted\n")
		}
	}
	if _, err := os.Stat(out); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an interrupted run wrote %s (stat: %v)", out, err)
	}
}

// runShell runs a bash script with args ($0, $1, …) and no terminal.
func runShell(t *testing.T, script string, args ...string) result {
	t.Helper()
	return runCmd(t, exec.Command("bash", append([]string{"-c", script}, args...)...))
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// failingWriter is a stdout that refuses every write, as a full disk does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestReportWriteFailure: a report that cannot be written exits 4 with
// one line that says so once, and leaves no file, partial or temporary,
// and an existing report as it was.
func TestReportWriteFailure(t *testing.T) {
	t.Parallel()
	dir, _, _ := twoImageLayout(t)
	img := "oci:" + dir + ":big"

	t.Run("missing directory", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "nodir", "x.json")
		r := runInProcess(t, "inspect", "-f", "json", "-o", out, img)
		if r.code != exitOutput {
			t.Errorf("exit %d, want %d; stderr %q", r.code, exitOutput, r.stderr)
		}
		lines := stderrLines(r.stderr)
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "imgsize: writing report "+out+": ") {
			t.Errorf("stderr %q, want one line 'imgsize: writing report %s: …'", r.stderr, out)
		}
		if strings.Count(r.stderr, "writing report") != 1 || strings.Count(r.stderr, out) != 1 {
			t.Errorf("stderr repeats itself: %q", r.stderr)
		}
		if _, err := os.Stat(filepath.Dir(out)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the missing directory was created (stat: %v)", err)
		}
	})

	t.Run("stdout", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"inspect", img}, "imgsize: writing report to stdout: no space left on device\n"},
			{[]string{"version"}, "imgsize: writing version: no space left on device\n"},
		} {
			var stderr strings.Builder
			code := run(context.Background(), tt.args, nil, failingWriter{}, &stderr)
			if code != exitOutput || stderr.String() != tt.want {
				t.Errorf("%q: exit %d, stderr %q; want %d, %q", tt.args, code, stderr.String(), exitOutput, tt.want)
			}
		}
	})

	t.Run("fails midway", func(t *testing.T) {
		// The full report is larger than the file size limit set below,
		// so writing it fails after its first kilobytes (EFBIG).
		full := imgsize(t, nil, "inspect", "-f", "json", "--no-cache", img)
		if full.code != 0 || len(full.stdout) < 2048 {
			t.Fatalf("the report must exceed 2 KiB for this test: exit %d, %d B", full.code, len(full.stdout))
		}
		outDir := t.TempDir()
		out := filepath.Join(outDir, "report.json")
		const old = "the previous report\n"
		if err := os.WriteFile(out, []byte(old), 0o644); err != nil {
			t.Fatal(err)
		}
		// ulimit -f counts 1024-byte blocks in bash.
		r := runShell(t, `ulimit -f 1 && exec "$0" "$@"`, binary, "inspect", "-f", "json", "--no-cache", "-o", out, img)
		if r.code != exitOutput {
			t.Errorf("exit %d, want %d; stderr %q", r.code, exitOutput, r.stderr)
		}
		lines := stderrLines(r.stderr)
		if len(lines) != 1 || !strings.HasPrefix(lines[0], "imgsize: writing report "+out+": ") || !strings.Contains(lines[0], "file too large") {
			t.Errorf("stderr %q, want one line 'imgsize: writing report %s: … file too large'", r.stderr, out)
		}
		if strings.Count(r.stderr, "writing report") != 1 || strings.Count(r.stderr, out) != 1 {
			t.Errorf("stderr repeats itself: %q", r.stderr)
		}
		if b, err := os.ReadFile(out); err != nil || string(b) != old {
			t.Errorf("the previous report changed: %q, %v", b, err)
		}
		if names := dirNames(t, outDir); len(names) != 1 {
			t.Errorf("directory holds %q, want only report.json", names)
		}
	})
}

// TestStatsAfterError: --stats shows the traffic of a run that failed at
// the registry, before the error line, which stays last.
func TestStatsAfterError(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/app:absent"

	r := runInProcess(t, "inspect", "--stats", "--no-cache", ref)
	if r.code != exitImage {
		t.Fatalf("exit %d, want %d; stderr %q", r.code, exitImage, r.stderr)
	}
	s := encParseStats(t, r.stderr)
	if s["manifest"].requests == 0 {
		t.Errorf("no manifest request counted: %s", s)
	}
	lines := stderrLines(r.stderr)
	if !strings.HasPrefix(lines[0], "registry traffic") {
		t.Errorf("stderr does not start with the --stats block:\n%s", r.stderr)
	}
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "imgsize: ") || !strings.Contains(last, "app:absent") {
		t.Errorf("last line %q is not the error naming the image", last)
	}
	if strings.Count(r.stderr, "imgsize: ") != 1 {
		t.Errorf("more than one error line:\n%s", r.stderr)
	}

	// Without --stats, only the error.
	if r := runInProcess(t, "inspect", "--no-cache", ref); len(stderrLines(r.stderr)) != 1 {
		t.Errorf("without --stats stderr is %q, want one line", r.stderr)
	}
}
