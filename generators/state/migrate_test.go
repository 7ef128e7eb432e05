package state

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"go.yaml.in/yaml/v3"
)

// TestMigrations is the golden test of every step of migrations: each has
// testdata/migrations/NN-SLUG.txtar, NN its place in the list (from 01), with
// before/scaffold.yaml (as the release before the step wrote it) and after/scaffold.yaml
// (what the step leaves); the step applied twice changes nothing more. A step without its
// file, or a file without its step, fails.
func TestMigrations(t *testing.T) {
	runMigrationGoldens(t, migrations, filepath.Join("testdata", "migrations"))
}

func runMigrationGoldens(t *testing.T, steps []Migration, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^(\d\d)-[a-z0-9-]+\.txtar$`)
	seen := map[int]bool{}
	for _, f := range files {
		m := name.FindStringSubmatch(filepath.Base(f))
		var i int
		if m != nil {
			i, _ = strconv.Atoi(m[1])
		}
		if m == nil || i < 1 || i > len(steps) {
			t.Errorf("%s: no migration step %q: name a golden NN-SLUG.txtar after its step's place in migrations (%d steps)", f, filepath.Base(f), len(steps))
			continue
		}
		seen[i] = true
		step := steps[i-1]
		t.Run(filepath.Base(f), func(t *testing.T) {
			ar, err := txtar.ParseFile(f)
			if err != nil {
				t.Fatal(err)
			}
			before, after := archiveFile(t, ar, "before/"+ManifestFile), archiveFile(t, ar, "after/"+ManifestFile)
			got, err := migrate(before, []Migration{step})
			if err != nil {
				t.Fatalf("%s: %v", step.Name, err)
			}
			if !bytes.Equal(got, after) {
				t.Errorf("%s: got\n%s\nwant\n%s", step.Name, got, after)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(got, &doc); err != nil {
				t.Fatal(err)
			}
			if again, err := step.Apply(&doc); err != nil || again {
				t.Errorf("%s applied to its own output: changed %v, %v; want a no-op", step.Name, again, err)
			}
		})
	}
	for i, s := range steps {
		if !seen[i+1] {
			t.Errorf("migration step %d (%s) has no golden test %s/%02d-SLUG.txtar", i+1, s.Name, dir, i+1)
		}
	}
}

func archiveFile(t *testing.T, ar *txtar.Archive, name string) []byte {
	t.Helper()
	for _, f := range ar.Files {
		if f.Name == name {
			return f.Data
		}
	}
	t.Fatalf("the archive has no %s", name)
	return nil
}

// The harness itself, on a stand-in step: it brings its golden before to its golden
// after, applies once, and leaves a current scaffold.yaml byte for byte as it was.
func TestMigrationHarness(t *testing.T) {
	rename := Migration{Name: "test: runtime.folder renamed runtime.dir", Apply: func(doc *yaml.Node) (bool, error) {
		root := doc.Content[0]
		for i := 0; i+1 < len(root.Content); i += 2 {
			if root.Content[i].Value != "runtime" {
				continue
			}
			rt := root.Content[i+1]
			for j := 0; j+1 < len(rt.Content); j += 2 {
				if rt.Content[j].Value == "folder" {
					rt.Content[j].Value = "dir"
					return true, nil
				}
			}
		}
		return false, nil
	}}
	dir := t.TempDir()
	golden := "-- before/scaffold.yaml --\nname: demo\nruntime:\n  folder: internal/prefork\n-- after/scaffold.yaml --\nname: demo\nruntime:\n  dir: internal/prefork\n"
	if err := os.WriteFile(filepath.Join(dir, "01-runtime-dir.txtar"), []byte(golden), 0o644); err != nil {
		t.Fatal(err)
	}
	runMigrationGoldens(t, []Migration{rename}, dir)

	// A current scaffold.yaml read through the list is left as it is.
	current := []byte("name: demo\nruntime:\n  dir: internal/prefork\n")
	if got, err := migrate(current, []Migration{rename}); err != nil || !bytes.Equal(got, current) {
		t.Errorf("migrate changed a current file: %q, %v", got, err)
	}
}

// No older shape is read: scaffold.yaml without runtime.dir (the one default a reader
// once filled in) is refused, naming the key and what it holds.
func TestReadManifestRefusesMissingRuntimeDir(t *testing.T) {
	dir := t.TempDir()
	data := "scaffold_version: v1.0.0\nname: demo\nmodule: example.com/demo\nanswers:\n  port: 8000\n  workers: 2\nruntime:\n  version: v1.0.0\n  files: []\n"
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadManifest(dir)
	if err == nil || !strings.Contains(err.Error(), "runtime.dir: must not be empty") {
		t.Errorf("err = %v, want runtime.dir named", err)
	}
	// And the retired aggregate checksum is an unknown field, not silently read.
	data = strings.Replace(data, "runtime:\n", "runtime:\n  dir: internal/prefork\n  checksum: sha256:00\n", 1)
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManifest(dir); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("err = %v, want the unknown runtime.checksum named", err)
	}
}
