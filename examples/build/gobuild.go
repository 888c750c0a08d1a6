package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// goCommand runs the go command in dir with an environment that keeps it
// local and independent of the repository's module: GOTOOLCHAIN=local so it
// never tries to download a toolchain (we are offline), GOWORK=off and an
// empty GOFLAGS so a developer's settings cannot change the output.
func goCommand(ctx context.Context, goBin, dir string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOWORK=off", "GOFLAGS=")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, msg)
		}
		return nil, fmt.Errorf("go %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// goEnv reports one go env variable. It runs outside the repository so a
// go.mod asking for a newer toolchain cannot make it fail.
func goEnv(ctx context.Context, goBin, name string) (string, error) {
	out, err := goCommand(ctx, goBin, os.TempDir(), nil, "env", name)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(out))
	if v == "" {
		return "", fmt.Errorf("go env %s is empty", name)
	}
	return v, nil
}

// buildHello builds the program in srcDir as a static linux/amd64 binary
// and returns its path inside outDir.
//
// The sources are copied into a scratch directory and built by file name,
// as the Dockerfiles do: srcDir has no go.mod of its own, and building it
// in place would tie the result to the enclosing module's go.mod (its go
// and toolchain lines, and whatever state other edits left it in).
func buildHello(ctx context.Context, goBin, srcDir, outDir string) (string, error) {
	entries, err := os.ReadDir(srcDir)
	if err != nil {
		return "", fmt.Errorf("reading hello source: %w", err)
	}
	work, err := os.MkdirTemp(outDir, "src-")
	if err != nil {
		return "", fmt.Errorf("creating hello build directory: %w", err)
	}
	defer os.RemoveAll(work)

	var files []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(srcDir, name))
		if err != nil {
			return "", fmt.Errorf("reading hello source: %w", err)
		}
		if err := os.WriteFile(filepath.Join(work, name), data, 0o644); err != nil {
			return "", fmt.Errorf("copying hello source %s: %w", name, err)
		}
		files = append(files, name)
	}
	if len(files) == 0 {
		return "", fmt.Errorf("no Go files in %s", srcDir)
	}

	bin, err := filepath.Abs(filepath.Join(outDir, "hello"))
	if err != nil {
		return "", fmt.Errorf("resolving binary path: %w", err)
	}
	args := append([]string{"build", "-trimpath", "-o", bin}, files...)
	env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64"}
	if _, err := goCommand(ctx, goBin, work, env, args...); err != nil {
		return "", fmt.Errorf("building hello: %w", err)
	}
	return bin, nil
}
