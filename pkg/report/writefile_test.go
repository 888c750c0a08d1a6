package report

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func dirEntries(t *testing.T, dir string) []string {
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

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "report.json")
	boom := errors.New("boom")

	t.Run("new file", func(t *testing.T) {
		err := WriteFile(path, func(w io.Writer) error {
			_, err := io.WriteString(w, "first\n")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != "first\n" {
			t.Errorf("content = %q", got)
		}
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o644 {
			t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
		}
	})

	t.Run("write fails", func(t *testing.T) {
		err := WriteFile(path, func(w io.Writer) error {
			// Half a report, then a failure.
			if _, err := io.WriteString(w, "partial"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("error = %v, want it to wrap the write error", err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != "first\n" {
			t.Errorf("old file changed: %q", got)
		}
		if names := dirEntries(t, dir); len(names) != 1 || names[0] != "report.json" {
			t.Errorf("directory holds %q, want only report.json", names)
		}
	})

	t.Run("write panics", func(t *testing.T) {
		func() {
			defer func() { _ = recover() }()
			_ = WriteFile(path, func(w io.Writer) error { panic("boom") })
		}()
		if names := dirEntries(t, dir); len(names) != 1 {
			t.Errorf("directory holds %q after a panic, want only report.json", names)
		}
	})

	t.Run("replace keeps mode", func(t *testing.T) {
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
		err := WriteFile(path, func(w io.Writer) error {
			_, err := io.WriteString(w, "second\n")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := os.ReadFile(path)
		if string(got) != "second\n" {
			t.Errorf("content = %q", got)
		}
		fi, _ := os.Stat(path)
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("mode = %v, want 0600 kept", fi.Mode().Perm())
		}
	})

	t.Run("missing directory", func(t *testing.T) {
		missing := filepath.Join(dir, "nope", "r.json")
		called := false
		err := WriteFile(missing, func(io.Writer) error { called = true; return nil })
		if err == nil || called {
			t.Errorf("error = %v, write called = %v; want an error before writing", err, called)
		}
	})

	t.Run("failed write to a new path leaves nothing", func(t *testing.T) {
		fresh := filepath.Join(dir, "fresh.csv")
		if err := WriteFile(fresh, func(io.Writer) error { return boom }); !errors.Is(err, boom) {
			t.Fatalf("error = %v", err)
		}
		if _, err := os.Stat(fresh); !os.IsNotExist(err) {
			t.Errorf("stat %s: %v, want not exist", fresh, err)
		}
		if names := dirEntries(t, dir); len(names) != 1 {
			t.Errorf("directory holds %q, want only report.json", names)
		}
	})
}
