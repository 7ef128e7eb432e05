package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
		res, err := Vendor(dir, "v1.1.0", false)
		if err != nil {
			t.Fatal(err)
		}
		_, conflictErr := os.Stat(doc + ConflictSuffix)
		switch {
		case !edit && (len(res.Conflicts) != 0 || !slices.Contains(res.Written, "doc.go") || conflictErr == nil):
			t.Errorf("unedited: %+v", res)
		case edit && (!slices.Contains(res.Conflicts, "doc.go") || !strings.Contains(readFile(t, doc), "// mine") || conflictErr != nil):
			t.Errorf("edited: %+v (doc.go.scaffold-new: %v)", res, conflictErr)
		}
		if m, err := LoadManifest(dir); err != nil || m.Runtime.Version != "v1.1.0" || m.Files != nil {
			t.Errorf("manifest after vendor: %+v, %v", m, err)
		}
	}
}
