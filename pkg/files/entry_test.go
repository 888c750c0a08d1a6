package files_test

import (
	"archive/tar"
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/imgsize/imgsize/pkg/files"
)

func TestEntryOf(t *testing.T) {
	for _, tc := range []struct {
		hdr  tar.Header
		want *files.Entry // nil: no entry
	}{
		{tar.Header{Name: "./", Typeflag: tar.TypeDir}, nil},
		{tar.Header{Name: "/", Typeflag: tar.TypeDir}, nil},
		{tar.Header{Name: ".", Typeflag: tar.TypeDir}, nil},
		{tar.Header{Name: "", Typeflag: tar.TypeReg}, nil},
		{tar.Header{Name: "pax_global_header", Typeflag: tar.TypeXGlobalHeader, Size: 52}, nil},
		{tar.Header{Name: "//etc//passwd", Typeflag: tar.TypeReg, Size: 9, Mode: 0o100644}, &files.Entry{Path: "etc/passwd", Type: files.Regular, Size: 9, Mode: 0o644}},
		{tar.Header{Name: "././a/./b/", Typeflag: tar.TypeDir, Mode: 0o40755}, &files.Entry{Path: "a/b", Type: files.Dir, Mode: 0o755}},
		{tar.Header{Name: "/./x", Typeflag: tar.TypeReg}, &files.Entry{Path: "x", Type: files.Regular}},
		{tar.Header{Name: "../../etc/shadow", Typeflag: tar.TypeReg, Size: 1}, &files.Entry{Path: "../../etc/shadow", Type: files.Regular, Size: 1}},
		{tar.Header{Name: "a/../../b", Typeflag: tar.TypeReg}, &files.Entry{Path: "../b", Type: files.Regular}},
		{tar.Header{Name: "d", Typeflag: tar.TypeDir, Size: 4096}, &files.Entry{Path: "d", Type: files.Dir}},
		{tar.Header{Name: "l", Typeflag: tar.TypeSymlink, Linkname: "../x/./y"}, &files.Entry{Path: "l", Type: files.Symlink, Linkname: "../x/./y"}},
		{tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "./a//b", Size: 7}, &files.Entry{Path: "h", Type: files.Hardlink, Linkname: "a/b"}},
		{tar.Header{Name: "dev/sda", Typeflag: tar.TypeBlock, Size: 3}, &files.Entry{Path: "dev/sda", Type: files.Other}},
		{tar.Header{Name: "s", Typeflag: tar.TypeReg, Mode: 0o107777}, &files.Entry{Path: "s", Type: files.Regular, Mode: 0o7777}},
		{tar.Header{Name: ".wh..wh..opq", Typeflag: tar.TypeReg}, &files.Entry{Path: ".", Type: files.Dir, Opaque: true}},
		{tar.Header{Name: "./a/b/.wh..wh..opq", Typeflag: tar.TypeReg, Mode: 0o644}, &files.Entry{Path: "a/b", Type: files.Dir, Opaque: true}},
		{tar.Header{Name: "a/.wh.b c", Typeflag: tar.TypeReg, Mode: 0o644}, &files.Entry{Path: "a/b c", Type: files.Other, Whiteout: true}},
		{tar.Header{Name: ".wh.etc", Typeflag: tar.TypeReg}, &files.Entry{Path: "etc", Type: files.Other, Whiteout: true}},
		{tar.Header{Name: "a/.wh.", Typeflag: tar.TypeReg}, nil},
		{tar.Header{Name: ".wh..wh.plnk", Typeflag: tar.TypeDir}, nil},
		{tar.Header{Name: ".wh..wh.plnk/12.34", Typeflag: tar.TypeReg, Size: 3}, nil},
		{tar.Header{Name: ".wh..wh.aufs", Typeflag: tar.TypeReg}, nil},
		{tar.Header{Name: "x/.wh..wh.orph", Typeflag: tar.TypeDir}, nil},
	} {
		got, ok := files.EntryOf(&tc.hdr)
		switch {
		case tc.want == nil && ok:
			t.Errorf("%q: got %+v, want no entry", tc.hdr.Name, got)
		case tc.want != nil && !ok:
			t.Errorf("%q: no entry, want %+v", tc.hdr.Name, *tc.want)
		case tc.want != nil:
			if diff := cmp.Diff(*tc.want, got); diff != "" {
				t.Errorf("%q (-want +got):\n%s", tc.hdr.Name, diff)
			}
		}
	}
}

// A name deeper than any filesystem holds is refused before an analysis
// walks it component by component (found in review: 20,000 levels cost
// 700 MB and seconds, quadratically).
func TestReadRefusesOverlongNames(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	name := strings.Repeat("a/", 2100) + "f"
	if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX}); err != nil {
		t.Fatal(err)
	}
	tw.Close()
	_, err := files.ReadTarForTest(bytes.NewReader(buf.Bytes()))
	if err == nil || !strings.Contains(err.Error(), "PATH_MAX") {
		t.Errorf("err = %v, want the name refused", err)
	}
}
