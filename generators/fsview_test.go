package generators

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/fstest"
)

// The set's view passes the standard library's file system conformance test.
func TestFileSetFS(t *testing.T) {
	if err := fstest.TestFS(sampleSet().FS(), "go.mod", "config/config.yaml", "web/static/css/style.css", "bin/run.sh"); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.ReadFile(sampleSet().FS(), "missing.txt"); !os.IsNotExist(err) {
		t.Errorf("ReadFile of a missing file: %v, want not-exist", err)
	}
}

// The overlay shows what the folder holds after Commit: the set's files win, base's other
// files stay visible, removed files are gone, and folders merge.
func TestFileSetOverlay(t *testing.T) {
	base := t.TempDir()
	for p, data := range map[string]string{"config/config.yaml": "old\n", "config/user.yaml": "mine\n", "old.txt": "bye\n"} {
		if err := os.MkdirAll(filepath.Join(base, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(base, p), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	set := sampleSet()
	set.Remove("old.txt")
	view := set.Overlay(os.DirFS(base))
	for p, want := range map[string]string{"config/config.yaml": "app: {}\n", "config/user.yaml": "mine\n"} {
		if got, err := fs.ReadFile(view, p); err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", p, got, err, want)
		}
	}
	if _, err := fs.ReadFile(view, "old.txt"); !os.IsNotExist(err) {
		t.Errorf("a removed file reads: %v", err)
	}
	matches, err := fs.Glob(view, "config/*.yaml")
	if err != nil || !slices.Equal(matches, []string{"config/config.yaml", "config/user.yaml"}) {
		t.Errorf("config/*.yaml = %v, %v", matches, err)
	}
	if err := fstest.TestFS(view, "go.mod", "config/config.yaml", "config/user.yaml", "web/static/css/style.css"); err != nil {
		t.Fatal(err)
	}
}
