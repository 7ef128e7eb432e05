package project

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testgen"
)

// newProject writes a fresh project into a temporary folder.
func newProject(t *testing.T, version string) string {
	t.Helper()
	ctx, err := Generate(Options{Name: "demo", Version: version})
	if err != nil {
		t.Fatal(err)
	}
	return testgen.Commit(t, ctx.Files, "demo")
}

func writeFile(t *testing.T, p, data string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestUpdate mimics an older scaffold by rewriting files and their recorded checksums,
// then checks each case end to end on disk.
func TestUpdate(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	// "older template" for Makefile (unedited) and README.md (then edited by the user)
	older := "older template\n"
	for _, p := range []string{"Makefile", "README.md"} {
		writeFile(t, filepath.Join(dir, p), older)
		m.Files[p] = state.FileChecksum([]byte(older))
	}
	writeFile(t, filepath.Join(dir, "README.md"), "my readme\n")
	writeFile(t, filepath.Join(dir, ".gitignore"), "my ignores\n") // edited, template same
	// go.sum deleted by the user stays deleted; style.css, missing with no record of it
	// (a file this scaffold adds), is written
	for _, p := range []string{"go.sum", "web/static/css/style.css"} {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(p))); err != nil {
			t.Fatal(err)
		}
	}
	delete(m.Files, "web/static/css/style.css")
	writeFile(t, filepath.Join(dir, "NOTES.md"), "mine\n")
	// Two files an older scaffold wrote that this one no longer generates: one unedited
	// (deleted), one edited (the user's now: kept). The one orphan rule, vendor's too.
	writeFile(t, filepath.Join(dir, "old.txt"), "gone\n")
	m.Files["old.txt"] = state.FileChecksum([]byte("gone\n"))
	writeFile(t, filepath.Join(dir, "old-edited.txt"), "gone, and mine\n")
	m.Files["old-edited.txt"] = state.FileChecksum([]byte("gone\n"))
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, state.ManifestFile), string(data))

	dry, err := Update(dir, "v1.1.0", true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "README.md"+state.ConflictSuffix)); err == nil {
		t.Fatal("a dry run wrote README.md.scaffold-new")
	}
	res, err := Update(dir, "v1.1.0", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(dry.Entries) != len(res.Entries) {
		t.Errorf("dry run reported %d files, the update %d", len(dry.Entries), len(res.Entries))
	}
	got := map[string]state.Change{}
	for _, e := range res.Entries {
		got[e.Path] = e.Action
	}
	for p, want := range map[string]state.Change{
		"Makefile": state.Overwrite, "README.md": state.Conflict, ".gitignore": state.Kept,
		"go.sum": state.Removed, "web/static/css/style.css": state.Create, "go.mod": state.Unchanged, "old.txt": state.Delete, "old-edited.txt": state.Orphan,
	} {
		if got[p] != want {
			t.Errorf("%s: %s, want %s", p, got[p], want)
		}
	}
	if _, ok := got["NOTES.md"]; ok {
		t.Error("a file the user added was reported")
	}
	if res.Conflicts != 1 {
		t.Errorf("Conflicts = %d, want 1", res.Conflicts)
	}
	if readFile(t, filepath.Join(dir, "README.md")) != "my readme\n" || readFile(t, filepath.Join(dir, ".gitignore")) != "my ignores\n" {
		t.Error("a user's edit was overwritten")
	}
	if !strings.Contains(readFile(t, filepath.Join(dir, "README.md"+state.ConflictSuffix)), "scaffold update") {
		t.Error("README.md.scaffold-new is not the new render")
	}
	if readFile(t, filepath.Join(dir, "Makefile")) == older {
		t.Error("Makefile not updated")
	}
	if _, err := os.Stat(filepath.Join(dir, "old.txt")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("old.txt, unedited and no longer generated, is still there (%v)", err)
	}
	if readFile(t, filepath.Join(dir, "old-edited.txt")) != "gone, and mine\n" {
		t.Error("old-edited.txt, edited by the user, was touched")
	}
	m2, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m2.ScaffoldVersion != "v1.1.0" || m2.Files["README.md"] != state.FileChecksum([]byte(readFile(t, filepath.Join(dir, "README.md"+state.ConflictSuffix)))) {
		t.Errorf("scaffold.yaml: version %s, README.md %s: want the new render's", m2.ScaffoldVersion, m2.Files["README.md"])
	}
	for _, p := range []string{"old.txt", "old-edited.txt"} {
		if _, ok := m2.Files[p]; ok {
			t.Errorf("scaffold.yaml still records %s", p)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "go.sum")); err == nil || !m2.IsRemoved("go.sum") || m2.Files["go.sum"] != "" {
		t.Errorf("go.sum, deleted by the user: written again (%v), or not recorded as removed (%q)", err, m2.Removed)
	}
	// reported once: the next update is quiet about it and still leaves it out
	again, err := Update(dir, "v1.1.0", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range again.Entries {
		if e.Path == "go.sum" {
			t.Errorf("second update reported go.sum: %s", e.Action)
		}
	}
}

func TestUpdateRefusesBadManifest(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	if _, err := Update(t.TempDir(), "v1.1.0", false); err == nil || !strings.Contains(err.Error(), "scaffold.yaml not found") {
		t.Errorf("not a project: %v", err)
	}
	writeFile(t, filepath.Join(dir, state.ManifestFile), "name: demo\nmodule: [\n")
	if _, err := Update(dir, "v1.1.0", false); err == nil || !strings.Contains(err.Error(), "scaffold.yaml: yaml: line") {
		t.Errorf("corrupted manifest: %v", err)
	}
}

// TestUpdateAfterVendor: `scaffold vendor` keeps the per-file checksums in step, so a later
// update sees the runtime it wrote as scaffold's, not as an edit.
func TestUpdateAfterVendor(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	if _, err := Vendor(dir, "v1.1.0", false, false); err != nil {
		t.Fatal(err)
	}
	res, err := Update(dir, "v1.2.0", true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		if strings.HasPrefix(e.Path, "internal/prefork/") && e.Action != state.Overwrite {
			t.Errorf("%s: %s, want update", e.Path, e.Action)
		}
	}
}

// A --db project's update re-renders with its database: nothing changes, nothing is
// created or orphaned (the database files are generated again).
func TestUpdateKeepsDatabase(t *testing.T) {
	updateChangesNothing(t, Options{Name: "shop", Database: state.DatabaseSQLite, Version: "v1.0.0"})
}

// updateChangesNothing generates a project with opts into a temporary folder, and a dry-run
// update with the same version reports every file unchanged: the manifest's answers give
// back opts. It returns the generation and the folder.
func updateChangesNothing(t *testing.T, opts Options) (*Context, string) {
	t.Helper()
	ctx, err := Generate(opts)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := state.Commit(ctx.Files, dir, true); err != nil {
		t.Fatal(err)
	}
	res, err := Update(dir, opts.Version, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		if e.Action != state.Unchanged {
			t.Errorf("%s: %s, want unchanged", e.Path, e.Action)
		}
	}
	if len(res.Entries) < 10 {
		t.Errorf("update reported %d files", len(res.Entries))
	}
	return ctx, dir
}

// The maintainer `scaffold new` was given is an answer scaffold.yaml records: an update
// renders .goreleaser.yaml and the rest with it, so nothing changes.
func TestUpdateKeepsMaintainer(t *testing.T) {
	const maintainer = "Ada Lovelace <ada@example.com>"
	ctx, dir := updateChangesNothing(t, Options{Name: "shop", Maintainer: maintainer, Version: "v1.0.0"})
	if ctx.Manifest.Answers.Maintainer != maintainer {
		t.Fatalf("scaffold.yaml's maintainer = %q, want %q", ctx.Manifest.Answers.Maintainer, maintainer)
	}
	cfg, err := os.ReadFile(filepath.Join(dir, ".goreleaser.yaml"))
	if err != nil || !strings.Contains(string(cfg), "\n    maintainer: \""+maintainer+"\"\n") {
		t.Errorf(".goreleaser.yaml does not name the maintainer: %v", err)
	}
}
