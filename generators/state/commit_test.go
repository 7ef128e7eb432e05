package state

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators"
)

func sampleSet() *generators.FileSet {
	s := generators.NewFileSet()
	for p, data := range map[string]string{"go.mod": "module demo\n", "config/config.yaml": "app: {}\n", "web/static/css/style.css": "body{}\n"} {
		s.Add(p, []byte(data), 0)
	}
	s.Add("bin/run.sh", []byte("#!/bin/sh\n"), 0o755)
	return s
}

// listTree returns every path under dir with its content, for before/after comparisons.
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		data, _ := os.ReadFile(p)
		out[rel] = string(data)
		return nil
	})
	return out
}

func assertNoStaging(t *testing.T, parent string) {
	t.Helper()
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".scaffold-") {
			t.Errorf("staging folder %s left behind", e.Name())
		}
	}
}

func TestCommitNewTarget(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "demo")
	if err := Commit(sampleSet(), target, false); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(target, "web/static/css/style.css"))
	if err != nil || string(data) != "body{}\n" {
		t.Fatalf("style.css = %q, %v", data, err)
	}
	if fi, _ := os.Stat(filepath.Join(target, "bin/run.sh")); fi.Mode().Perm() != 0o755 {
		t.Errorf("run.sh mode = %v, want 0755", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(target); fi.Mode().Perm() != 0o755 {
		t.Errorf("target mode = %v, want 0755", fi.Mode().Perm())
	}
	assertNoStaging(t, parent)
}

func TestCommitRefusesNonEmptyWithoutForce(t *testing.T) {
	target := t.TempDir()
	if err := os.WriteFile(filepath.Join(target, "go.mod"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := listTree(t, target)
	err := Commit(sampleSet(), target, false)
	if !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("err = %v, want ErrNotEmpty", err)
	}
	if after := listTree(t, target); len(after) != len(before) || after["go.mod"] != "mine" {
		t.Fatalf("target changed: %v", after)
	}
}

func TestCommitForceKeepsUserFiles(t *testing.T) {
	target := t.TempDir()
	must(t, os.WriteFile(filepath.Join(target, "go.mod"), []byte("old"), 0o644))
	must(t, os.MkdirAll(filepath.Join(target, "notes"), 0o755))
	must(t, os.WriteFile(filepath.Join(target, "notes", "todo.txt"), []byte("keep"), 0o644))
	if err := Commit(sampleSet(), target, true); err != nil {
		t.Fatal(err)
	}
	tree := listTree(t, target)
	if tree["go.mod"] != "module demo\n" || tree["notes/todo.txt"] != "keep" {
		t.Fatalf("after --force: %v", tree)
	}
	assertNoStaging(t, filepath.Dir(target))
}

// A failure while moving files into an existing folder puts everything back as it was.
func TestCommitRollsBackPartialMove(t *testing.T) {
	target := t.TempDir()
	must(t, os.WriteFile(filepath.Join(target, "go.mod"), []byte("old"), 0o644))
	must(t, os.WriteFile(filepath.Join(target, "user.txt"), []byte("mine"), 0o644))
	before := listTree(t, target)

	calls := 0
	rename = func(from, to string) error {
		calls++
		if calls == 4 { // after some files moved and go.mod was backed up
			return errors.New("disk on fire")
		}
		return os.Rename(from, to)
	}
	defer func() { rename = os.Rename }()

	err := Commit(sampleSet(), target, true)
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	assertSameTree(t, before, listTree(t, target))
	assertNoStaging(t, filepath.Dir(target))
}

// A failure while rendering into the staging folder leaves no target and no staging.
func TestCommitFailureLeavesNothing(t *testing.T) {
	parent := t.TempDir()
	target := filepath.Join(parent, "demo")
	s := sampleSet()
	s.Add("go.mod/inner", []byte("x"), 0) // go.mod is both a file and a folder: staging fails
	if err := Commit(s, target, false); err == nil {
		t.Fatal("commit succeeded, want an error")
	}
	if _, err := os.Stat(target); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("target exists after a failed commit: %v", err)
	}
	assertNoStaging(t, parent)
}

func TestCommitRefusesFolderInTheWay(t *testing.T) {
	target := t.TempDir()
	must(t, os.MkdirAll(filepath.Join(target, "go.mod"), 0o755))
	err := Commit(sampleSet(), target, true)
	if err == nil || !strings.Contains(err.Error(), "is a folder where scaffold writes a file") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(target, "config")); err == nil {
		t.Fatal("files were written despite the conflict")
	}
}

func TestPlan(t *testing.T) {
	target := t.TempDir()
	must(t, os.WriteFile(filepath.Join(target, "go.mod"), []byte("module demo\n"), 0o644))
	must(t, os.MkdirAll(filepath.Join(target, "config"), 0o755))
	must(t, os.WriteFile(filepath.Join(target, "config", "config.yaml"), []byte("edited"), 0o644))
	s := sampleSet()
	changes, err := Plan(s, target)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Change{}
	for i, f := range s.Files() {
		got[f.Path] = changes[i]
	}
	want := map[string]Change{"go.mod": Unchanged, "config/config.yaml": Overwrite, "web/static/css/style.css": Create, "bin/run.sh": Create}
	for p, c := range want {
		if got[p] != c {
			t.Errorf("%s: %s, want %s", p, got[p], c)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Removals belong to the commit: when the last step fails, the files to remove are back
// and the writes undone.
func TestCommitRemovalsRollBackToo(t *testing.T) {
	target := t.TempDir()
	must(t, os.WriteFile(filepath.Join(target, "go.mod"), []byte("old"), 0o644))
	must(t, os.WriteFile(filepath.Join(target, "gone.go"), []byte("old runtime"), 0o644))
	must(t, os.WriteFile(filepath.Join(target, "also-gone.go"), []byte("old runtime too"), 0o644))
	before := listTree(t, target)
	s := sampleSet()
	s.Remove("also-gone.go")
	s.Remove("gone.go")
	rename = func(from, to string) error {
		if filepath.Base(from) == "gone.go" { // the last move of the commit
			return errors.New("disk on fire")
		}
		return os.Rename(from, to)
	}
	defer func() { rename = os.Rename }()
	if err := Commit(s, target, true); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	assertSameTree(t, before, listTree(t, target))
	rename = os.Rename
	if err := Commit(s, target, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(target, "gone.go")); !os.IsNotExist(err) {
		t.Errorf("gone.go after a committed removal: %v", err)
	}
	assertNoStaging(t, filepath.Dir(target))
}

// assertSameTree fails unless a rollback left the tree as it was.
func assertSameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	if len(after) != len(before) {
		t.Fatalf("rollback left a different tree:\nbefore %v\nafter  %v", before, after)
	}
	for p, c := range before {
		if after[p] != c {
			t.Errorf("%s = %q after rollback, want %q", p, after[p], c)
		}
	}
}

// CommitAll is one step over several folders: when the last move into the second folder
// fails, the first one (an existing folder and a new one) is as it was too.
func TestCommitAllRollsBackEveryFolder(t *testing.T) {
	parent := t.TempDir()
	first, fresh, second := filepath.Join(parent, "first"), filepath.Join(parent, "fresh"), filepath.Join(parent, "second")
	must(t, os.MkdirAll(first, 0o755))
	must(t, os.MkdirAll(second, 0o755))
	must(t, os.WriteFile(filepath.Join(first, "go.mod"), []byte("old"), 0o644))
	must(t, os.WriteFile(filepath.Join(second, "scaffold.yaml"), []byte("old record"), 0o644))
	before, beforeSecond := listTree(t, first), listTree(t, second)
	record := generators.NewFileSet()
	record.Add("scaffold.yaml", []byte("new record"), 0)
	rename = func(from, to string) error {
		if filepath.Base(from) == "scaffold.yaml" && strings.Contains(from, ".scaffold-") { // the last move
			return errors.New("disk on fire")
		}
		return os.Rename(from, to)
	}
	defer func() { rename = os.Rename }()
	err := CommitAll(Into{Target: first, Files: sampleSet(), Force: true}, Into{Target: fresh, Files: sampleSet()}, Into{Target: second, Files: record, Force: true})
	if err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Fatalf("err = %v, want the injected failure", err)
	}
	assertSameTree(t, before, listTree(t, first))
	assertSameTree(t, beforeSecond, listTree(t, second))
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("the new folder is there after the rollback: %v", err)
	}
	assertNoStaging(t, parent)

	rename = os.Rename
	must(t, CommitAll(Into{Target: first, Files: sampleSet(), Force: true}, Into{Target: second, Files: record, Force: true}))
	if data, _ := os.ReadFile(filepath.Join(second, "scaffold.yaml")); string(data) != "new record" {
		t.Errorf("second folder's scaffold.yaml = %q after the commit", data)
	}
	if data, _ := os.ReadFile(filepath.Join(first, "go.mod")); string(data) != "module demo\n" {
		t.Errorf("first folder's go.mod = %q after the commit", data)
	}
}
