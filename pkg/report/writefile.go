package report

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes a report to path atomically: write is called with a
// temporary file in the same directory, which is then synced and renamed
// over path. On any error — including one returned by write — the temporary
// file is removed and path is left as it was: there is never a partial
// report at path. A new file gets mode 0644; a replaced one keeps its mode.
func WriteFile(path string, write func(io.Writer) error) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm := fs.FileMode(0o644)
	if fi, statErr := os.Stat(path); statErr == nil {
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("writing report %s: not a regular file", path)
		}
		perm = fi.Mode().Perm()
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	name := tmp.Name()
	done := false
	defer func() {
		// Also runs when write panics.
		if !done {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if err := write(tmp); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	done = true
	syncDir(dir)
	return nil
}

// syncDir makes a rename durable where the platform allows it; failure only
// costs durability across a crash, so it is not reported.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
