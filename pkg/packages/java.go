package packages

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
)

// Java archives: KeepJar keeps what a jar, war or ear says of itself, and
// readJava makes each one a package owning its own file (the bytes are the
// archive's; what it bundles is inside them). The name and version come,
// in order, from its Maven coordinates (META-INF/maven/GROUP/ARTIFACT/
// pom.properties: groupId:artifactId and version), its manifest
// (Implementation-Title and -Version, else Bundle-SymbolicName and
// Bundle-Version), or its file name ("guava-31.1-jre.jar": guava,
// 31.1-jre).

// MaxJar is the largest archive whose metadata is read.
const MaxJar = MaxGoBinary

// maxJarEntry bounds what is read of one metadata entry in an archive.
const maxJarEntry = 64 << 10

// jarInfoPrefix starts what KeepJar keeps, so it is never taken for a
// database file's content or a Go binary's build information.
var jarInfoPrefix = []byte("imgsize-jar\n")

// isJar says whether p names a Java archive.
func isJar(p string) bool {
	switch path.Ext(p) {
	case ".jar", ".war", ".ear":
		return true
	}
	return false
}

// KeepJar reads a Java archive once and keeps "imgsize-jar", then its name
// and version on a line each; nothing when it is not a zip archive
// (it then stays unowned).
func KeepJar(p string, size int64, r io.Reader) ([]byte, error) {
	if size > MaxJar || size < 22 {
		return nil, nil
	}
	// A zip archive starts with a local file header (or, empty, its end
	// record), or with a launch script ("#!") before it: nothing else is
	// buffered whole.
	head := make([]byte, 4)
	if _, err := io.ReadFull(r, head); err != nil {
		return nil, err
	}
	if !bytes.Equal(head, []byte("PK\x03\x04")) && !bytes.Equal(head, []byte("PK\x05\x06")) && !bytes.HasPrefix(head, []byte("#!")) {
		return nil, nil
	}
	b := make([]byte, size)
	copy(b, head)
	if _, err := io.ReadFull(r, b[len(head):]); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(bytes.NewReader(b), size)
	if err != nil {
		return nil, nil
	}
	// Cleaned as they are kept: what the capture holds is a line each,
	// bounded (a name from a tar path may hold a newline, a manifest
	// value 64 KiB).
	name, version := jarIdentity(zr, path.Base(p))
	name, version = Clean(name), Clean(version)
	if name == "" {
		return nil, nil
	}
	return append(append([]byte(nil), jarInfoPrefix...), name+"\n"+version+"\n"...), nil
}

// jarIdentity is the archive's name and version, from the first source
// that gives a name.
func jarIdentity(zr *zip.Reader, base string) (name, version string) {
	var poms []*zip.File
	var manifest *zip.File
	for _, f := range zr.File {
		switch {
		case strings.HasPrefix(f.Name, "META-INF/maven/") && path.Base(f.Name) == "pom.properties":
			poms = append(poms, f)
		case f.Name == "META-INF/MANIFEST.MF":
			manifest = f
		}
	}
	// A shaded archive holds the poms of what it bundles too: its own is
	// the one whose artifactId (its folder's name) starts its file name,
	// the longest such ("spring-boot-starter-web", not "spring-boot"); a
	// lone pom is its own. Only that pom is inflated: a crafted archive
	// may list thousands.
	var own *zip.File
	for _, f := range poms {
		artifact := path.Base(path.Dir(f.Name))
		if len(poms) == 1 || strings.HasPrefix(base, artifact) && (own == nil || len(artifact) > len(path.Base(path.Dir(own.Name)))) {
			own = f
		}
	}
	if own != nil {
		props := properties(readEntry(own))
		if g, a, v := props["groupId"], props["artifactId"], props["version"]; a != "" {
			if g != "" {
				a = g + ":" + a
			}
			return a, v
		}
	}
	if manifest != nil {
		m := manifestAttributes(readEntry(manifest))
		if t := m["Implementation-Title"]; t != "" {
			return t, m["Implementation-Version"]
		}
		if s, _, _ := strings.Cut(m["Bundle-SymbolicName"], ";"); strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s), m["Bundle-Version"]
		}
	}
	stem := strings.TrimSuffix(base, path.Ext(base))
	// "guava-31.1-jre": split at the first "-" before a digit, past the
	// first character.
	for i := 1; i+1 < len(stem); i++ {
		if stem[i] == '-' && stem[i+1] >= '0' && stem[i+1] <= '9' {
			return stem[:i], stem[i+1:]
		}
	}
	return stem, ""
}

func readEntry(f *zip.File) []byte {
	rc, err := f.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	b, _ := io.ReadAll(io.LimitReader(rc, maxJarEntry))
	return b
}

// properties reads a Java .properties file's key=value lines (no escapes,
// no continuations: pom.properties as Maven writes it).
func properties(b []byte) map[string]string {
	m := map[string]string{}
	lines(b, func(l string) {
		l = strings.TrimSpace(l)
		if l == "" || l[0] == '#' || l[0] == '!' {
			return
		}
		if k, v, ok := strings.Cut(l, "="); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	})
	return m
}

// manifestAttributes reads a jar manifest's main section: "Name: value"
// lines, a line starting with a space continuing the one before; the
// section ends at the first blank line.
func manifestAttributes(b []byte) map[string]string {
	m := map[string]string{}
	var key string
	done := false
	lines(b, func(l string) {
		switch {
		case done:
		case l == "":
			done = true
		case l[0] == ' ' && key != "":
			// Bounded: thousands of continuation lines would otherwise
			// copy the value each time.
			if len(m[key]) < maxField {
				m[key] += l[1:]
			}
		default:
			if k, v, ok := strings.Cut(l, ":"); ok {
				key = strings.TrimSpace(k)
				m[key] = strings.TrimSpace(v)
			}
		}
	})
	return m
}

// readJava makes a package of each Java archive KeepJar read; archives of
// the same name and version (copies) are one package owning each copy.
func readJava(in Input, r *Result) {
	byID := map[string]int{}
	for _, f := range sortedKeys(in, func(p string) bool { return bytes.HasPrefix(in.Files[p], jarInfoPrefix) }) {
		fields := strings.SplitN(string(in.Files[f][len(jarInfoPrefix):]), "\n", 3)
		if len(fields) < 2 || fields[0] == "" {
			continue
		}
		name, version := fields[0], fields[1]
		key := name + "@" + version
		if i, ok := byID[key]; ok {
			r.Packages[i].Files = append(r.Packages[i].Files, f)
			continue
		}
		byID[key] = len(r.Packages)
		r.Packages = append(r.Packages, Package{Kind: Java, Name: name, Version: version, Declared: -1, Files: []string{f}, Database: f})
	}
	if len(byID) > 0 {
		r.Databases = append(r.Databases, Database{Kind: Java, Path: "Java archives' metadata", Read: true, Packages: len(byID)})
	}
}
