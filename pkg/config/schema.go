package config

import _ "embed"

// JSONSchema is the JSON Schema (draft 2020-12) of imgsize.yaml, for
// editors that complete and check keys (the YAML language server reads it
// from a `# yaml-language-server: $schema=…` comment or its settings).
// TestJSONSchema holds its keys to the ones the parser reads.
//
//go:embed imgsize.schema.json
var JSONSchema []byte
