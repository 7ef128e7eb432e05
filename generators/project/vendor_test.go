package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators"
)

// A manifest from before the per-file checksums: the runtime's one checksum tells whether
// the copy on disk is scaffold's. Unedited, it is replaced; edited, every changed file is
// kept with scaffold's version beside it.
func TestVendorOldManifest(t *testing.T) {
	for _, edit := range []bool{false, true} {
		dir := newProject(t, "v1.0.0")
		dropFileChecksums(t, dir)
		doc := filepath.Join(dir, "internal", "prefork", "doc.go")
		if edit {
			writeFile(t, doc, readFile(t, doc)+"// mine\n")
		}
		res, err := Vendor(dir, "v1.1.0", false, false)
		if err != nil {
			t.Fatal(err)
		}
		_, conflictErr := os.Stat(doc + generators.ConflictSuffix)
		switch {
		case !edit && (len(res.Conflicts) != 0 || !slices.Contains(res.Written, "internal/prefork/doc.go") || conflictErr == nil):
			t.Errorf("unedited: %+v", res)
		case edit && (!slices.Contains(res.Conflicts, "internal/prefork/doc.go") || !strings.Contains(readFile(t, doc), "// mine") || conflictErr != nil):
			t.Errorf("edited: %+v (doc.go.scaffold-new: %v)", res, conflictErr)
		}
		if m, err := LoadManifest(dir); err != nil || m.Runtime.Version != "v1.1.0" || m.Files != nil {
			t.Errorf("manifest after vendor: %+v, %v", m, err)
		}
	}
}

// The configuration engine imports the runtime, so vendor upgrades both together; a
// project made before the engine gets it from `scaffold update` with the factory that
// uses it, not from vendor.
func TestVendorUpgradesTheEngineBesideTheRuntime(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	res, err := Vendor(dir, "v1.1.0", false, false)
	if err != nil {
		t.Fatal(err)
	}
	load := filepath.Join(dir, "internal", "appconfig", "load.go")
	if !slices.Contains(res.Written, "internal/appconfig/load.go") || !strings.HasPrefix(readFile(t, load), ConfigHeader("v1.1.0")) {
		t.Errorf("the engine was not upgraded: %+v", res)
	}
	if m, _ := LoadManifest(dir); m.Files["internal/appconfig/load.go"] != generators.FileChecksum([]byte(readFile(t, load))) {
		t.Errorf("scaffold.yaml records %q for the engine's load.go", m.Files["internal/appconfig/load.go"])
	}

	old := newProject(t, "v1.0.0")
	m, err := LoadManifest(old)
	if err != nil {
		t.Fatal(err)
	}
	for p := range m.Files {
		if strings.HasPrefix(p, "internal/appconfig/") {
			delete(m.Files, p)
		}
	}
	data, _ := m.Marshal()
	writeFile(t, filepath.Join(old, ManifestFile), string(data))
	if err := os.RemoveAll(filepath.Join(old, "internal", "appconfig")); err != nil {
		t.Fatal(err)
	}
	if res, err := Vendor(old, "v1.1.0", false, false); err != nil || slices.ContainsFunc(res.Written, func(p string) bool { return strings.HasPrefix(p, "internal/appconfig/") }) {
		t.Errorf("vendor wrote an engine into a project without one: %+v, %v", res, err)
	}
}
