package state

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Find walks up to the folder holding scaffold.yaml and keeps a relative start relative.
func TestFind(t *testing.T) {
	root := t.TempDir()
	proj := filepath.Join(root, "demo")
	deep := filepath.Join(proj, "web", "home", "templates")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, ManifestFile), []byte("name: demo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for start, want := range map[string]string{proj: proj, deep: proj, filepath.Join(proj, "web"): proj} {
		if got, err := Find(start); err != nil || got != want {
			t.Errorf("Find(%s) = %q, %v; want %q", start, got, err, want)
		}
	}
	t.Chdir(deep)
	for start, want := range map[string]string{".": "../../..", "..": "../../..", "../../..": "../../.."} {
		if got, err := Find(start); err != nil || got != want {
			t.Errorf("Find(%s) from web/home/templates = %q, %v; want %q", start, got, err, want)
		}
	}
	if _, err := Find(root); err == nil || !strings.Contains(err.Error(), "no scaffold.yaml in "+root+" or any folder above it") {
		t.Errorf("Find outside a project: %v", err)
	}
}
