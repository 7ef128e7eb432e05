package update

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cmdtest"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

func TestNewCmdUpdateFlags(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		want    Options
		wantErr string
	}{
		{args: nil, want: Options{Dir: "."}},
		{args: []string{"--dir", "shop", "--dry-run"}, want: Options{Dir: "shop", DryRun: true}},
		{args: []string{"--runtime"}, want: Options{Dir: ".", Runtime: true}},
		{args: []string{"shop"}, wantErr: `unknown command "shop"`},
	} {
		got, ios, err := cmdtest.Parse(NewCmdUpdate, tt.args...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err = %v, want %q", tt.args, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if got.IO != ios || got.Dir != tt.want.Dir || got.DryRun != tt.want.DryRun || got.Runtime != tt.want.Runtime {
			t.Errorf("%v: options = %+v, want %+v with the factory's streams", tt.args, got, tt.want)
		}
	}
}

// newProject writes what `scaffold new demo` writes, as an older scaffold version.
func newProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	if err := pipeline.New(&pipeline.NewRun{Options: project.Options{Name: "demo", Version: "v0.9.0"}, Target: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The report names each file's fate in words, the package units included, and ends with
// the versions; a dry run says it wrote nothing.
func TestUpdateRun(t *testing.T) {
	dir := newProject(t)
	if err := os.WriteFile(filepath.Join(dir, ".gitignore"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config", "config.yaml")
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, bytes.Replace(data, []byte("graceful_timeout: 30s"), []byte("graceful_timeout: 20s"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dry := range []bool{true, false} {
		ios, _, out, _ := iostreams.Test()
		if err := updateRun(&Options{IO: ios, Dir: dir, DryRun: dry, Verbose: true}); err != nil { // -v: the unchanged ones too
			t.Fatal(err)
		}
		for _, want := range []string{
			"kept (edited by you): .gitignore\n",
			"unchanged: go.mod\n",
			"update: packaging/systemd/demo.service\n",
			"unchanged: packaging/systemd/demo.socket\n",
		} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("dry run %v: output lacks %q:\n%s", dry, want, out)
			}
		}
		last := "Updated the project from scaffold v0.9.0 to "
		if dry {
			last = "Dry run, nothing written: would update the project from scaffold v0.9.0 to "
		}
		if !strings.Contains(out.String(), "\n"+last) || strings.Contains(out.String(), "conflict") {
			t.Errorf("dry run %v: output does not end with %q, or reports a conflict:\n%s", dry, last, out)
		}
	}
	unit, err := os.ReadFile(filepath.Join(dir, "packaging", "systemd", "demo.service"))
	if err != nil || !strings.Contains(string(unit), "TimeoutStopSec=30\n") {
		t.Errorf("packaging/systemd/demo.service after update does not wait 20s + 10s: %v\n%s", err, unit)
	}
}

// --runtime is scaffold vendor: only internal/prefork changes, reported as vendor does.
func TestUpdateRunRuntime(t *testing.T) {
	dir := newProject(t)
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	if err := updateRun(&Options{IO: ios, Dir: dir, Runtime: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Vendored the prefork runtime ") || !strings.Contains(out.String(), "(was v0.9.0)") {
		t.Errorf("output:\n%s", out)
	}
	if data, _ := os.ReadFile(readme); string(data) != "old\n" {
		t.Error("update --runtime touched README.md")
	}
	// --dry-run says what a newer runtime would write and writes nothing.
	doc := filepath.Join(dir, "internal", "prefork", "doc.go")
	if err := os.WriteFile(doc, []byte("package prefork\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gone := filepath.Join(dir, "internal", "prefork", "run.go")
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	manifest, _ := os.ReadFile(filepath.Join(dir, "scaffold.yaml"))
	out.Reset()
	if err := updateRun(&Options{IO: ios, Dir: dir, Runtime: true, DryRun: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Dry run, nothing written: would vendor the prefork runtime ") || !strings.Contains(out.String(), "kept (edited by you): internal/prefork/doc.go\n") || !strings.Contains(out.String(), "write: internal/prefork/run.go\n") {
		t.Errorf("--runtime --dry-run output:\n%s", out)
	}
	if data, _ := os.ReadFile(doc); string(data) != "package prefork\n" {
		t.Error("--dry-run wrote internal/prefork/doc.go")
	}
	if _, err := os.Stat(gone); err == nil {
		t.Error("--dry-run wrote internal/prefork/spawn.go")
	}
	if now, _ := os.ReadFile(filepath.Join(dir, "scaffold.yaml")); string(now) != string(manifest) {
		t.Error("--dry-run rewrote scaffold.yaml")
	}
}

func TestUpdateRunOutsideProject(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	err := updateRun(&Options{IO: ios, Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "no scaffold.yaml in ") || out.Len() != 0 {
		t.Errorf("err = %v, output %q", err, out)
	}
}

// A conflict in code or config says the project may not build until it is merged; one in
// a document does not.
func TestUpdateRunWarnsOfCodeConflicts(t *testing.T) {
	for file, warn := range map[string]bool{"factory/config.go": true, "README.md": false} {
		dir := newProject(t)
		m, err := state.LoadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		older := "// an older template\n"
		m.Files[file] = state.FileChecksum([]byte(older))
		data, _ := m.Marshal()
		for p, content := range map[string]string{file: older + "// mine\n", state.ManifestFile: string(data)} {
			if err := os.WriteFile(filepath.Join(dir, p), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ios, _, out, _ := iostreams.Test()
		if err := updateRun(&Options{IO: ios, Dir: dir}); err != nil {
			t.Fatal(err)
		}
		said := strings.Contains(out.String(), "Until "+file+" is merged, the project may not build or start")
		if said != warn || !strings.Contains(out.String(), "conflict: kept your "+file) {
			t.Errorf("%s in conflict: warned %v, want %v:\n%s", file, said, warn, out)
		}
	}
}

// The one orphan rule, as the report says it: a file an older scaffold wrote that this one
// no longer generates is deleted when unedited and left in place when edited.
func TestUpdateRunOrphans(t *testing.T) {
	dir := newProject(t)
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"old.txt": "old\n", "older.txt": "older, and mine\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m.Files["old.txt"] = state.FileChecksum([]byte("old\n"))
	m.Files["older.txt"] = state.FileChecksum([]byte("older\n"))
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, state.ManifestFile), data, 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	if err := updateRun(&Options{IO: ios, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"no longer generated by scaffold: old.txt (deleted: you had not edited it)\n",
		"no longer generated by scaffold: older.txt (edited by you, so left in place: yours now)\n",
		"1 deleted (no longer generated), 1 left in place (no longer generated, edited)",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "old.txt")); err == nil {
		t.Error("old.txt, unedited, is still there")
	}
	if data, err := os.ReadFile(filepath.Join(dir, "older.txt")); err != nil || string(data) != "older, and mine\n" {
		t.Errorf("older.txt, edited, was touched: %q, %v", data, err)
	}
}
