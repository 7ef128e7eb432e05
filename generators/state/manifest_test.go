package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A manifest read back and written again (deploy-config's record, vendor's) keeps the
// header comment it was read with, byte for byte with the rest: the render alone sets it.
func TestManifestKeepsItsHeader(t *testing.T) {
	const header = "# Written by scaffold: what this project was generated from.\n#   yours: the files you add\n"
	body := "scaffold_version: v1.0.0\nname: demo\nmodule: demo\nanswers:\n  port: 8000\n  workers: 2\nruntime:\n  dir: internal/prefork\n  version: v1.0.0\n  files:\n    - doc.go\nfiles:\n  go.mod: sha256:00\n"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(header+body), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header != header {
		t.Fatalf("header read as %q, want %q", m.Header, header)
	}
	out, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != header+body {
		t.Errorf("written again:\n%s\nwant:\n%s", out, header+body)
	}
	m.Header = ""
	if out, _ := m.Marshal(); strings.HasPrefix(string(out), "#") {
		t.Errorf("a manifest without a header was written with one:\n%s", out)
	}
}
