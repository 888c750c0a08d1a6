// Package packages reads the package databases an image's filesystem holds
// — dpkg, apk, rpm (SQLite and Berkeley DB), Python (dist-info and egg-info), npm (node_modules) and Go
// binaries' build information — into plain data: each package's name,
// version, the size its database declares and the paths it owns. It never
// runs anything from the image.
//
// It sits beside pkg/files in the flow source → files → analysis → report,
// and knows none of them: its input is plain data (path → content of the
// few files pkg/files captured from the final filesystem, and that
// filesystem's paths), so every parser is pure and fuzzed. Wanted and Keep
// say which files to capture and what to keep of them.
//
// Everything read is outside input: sizes are bounded by the capture, and
// names and versions are cleaned of control characters (Clean) before they
// leave this package. rpm's SQLite and Berkeley DB databases are read by
// read-only readers of their own (internal/sqlite, internal/bdb); the ndb
// format is recognised but not read: no pure-Go reader exists, so its
// files are left unowned, with that reason.
package packages
