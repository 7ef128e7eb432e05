package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
)

func TestCutModuleConfig(t *testing.T) {
	wiki, blog := state.Module{Name: "wiki", Config: true}, state.Module{Name: "blog", Config: true}
	for _, tc := range []struct{ name, in, want string }{
		{"the only section", "server:\n  workers: 2\nmodules:\n" + wiki.ConfigYAML() + "\n", "server:\n  workers: 2\nmodules:\n"},
		{"between others, edited", "modules:\n" + blog.ConfigYAML() + "\n  wiki:\n    title: Mine\n    # note\n" + blog.ConfigYAML() + "\n", "modules:\n" + blog.ConfigYAML() + "\n" + blog.ConfigYAML() + "\n"},
		{"a wiki key elsewhere stays", "server:\n  wiki: 1\nmodules:\n  wikis:\n    title: X\n", "server:\n  wiki: 1\nmodules:\n  wikis:\n    title: X\n"},
		{"followed by a top-level key", "modules:\n" + wiki.ConfigYAML() + "\nlogging:\n  level: info\n", "modules:\nlogging:\n  level: info\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(cutModuleConfig([]byte(tc.in), wiki)); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// remove module and add module round-trip: the second add writes what the first did.
func TestRemoveModuleRoundTrip(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	wiki := state.Module{Name: "wiki", API: true, Page: true, Config: true}
	if _, err := AddModule(dir, wiki, false); err != nil {
		t.Fatal(err)
	}
	added := snapshot(t, dir)
	before := snapshot(t, dir)
	if _, err := RemoveModule(dir, "wiki", true); err != nil {
		t.Fatal(err)
	}
	if before != snapshot(t, dir) {
		t.Fatal("a dry run changed the project")
	}
	res, err := RemoveModule(dir, "wiki", false)
	if err != nil {
		t.Fatal(err)
	}
	if res.ConfigEdited {
		t.Error("an unedited config.yaml was edited in place")
	}
	if _, err := os.Stat(filepath.Join(dir, "web", "wiki")); err == nil {
		t.Error("web/wiki is still there")
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Modules) != 0 || m.RecordsUnder("web/wiki") {
		t.Errorf("scaffold.yaml still records wiki: %+v", m.Modules)
	}
	fresh := newProject(t, "v0.0.0-test")
	for _, p := range []string{ModulesFile, ModulesConfigFile, configYAML, state.ManifestFile} {
		if readFile(t, filepath.Join(dir, p)) != readFile(t, filepath.Join(fresh, p)) {
			t.Errorf("%s after remove module differs from a fresh project's", p)
		}
	}
	if _, err := AddModule(dir, wiki, false); err != nil {
		t.Fatal(err)
	}
	if added != snapshot(t, dir) {
		t.Error("add after remove wrote another project than the first add")
	}
}

func TestRemoveModuleRefuses(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	if _, err := AddModule(dir, state.Module{Name: "wiki"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := RemoveModule(dir, "nope", false); err == nil || err.Error() != `module "nope" is not in this project: it has home, wiki` {
		t.Errorf("unknown module: %v", err)
	}
	writeFile(t, filepath.Join(dir, ModulesFile), readFile(t, filepath.Join(dir, ModulesFile))+"// mine\n")
	before := snapshot(t, dir)
	if _, err := RemoveModule(dir, "wiki", false); err == nil || !strings.Contains(err.Error(), "web/modules.go was edited, but scaffold owns it") {
		t.Errorf("edited web/modules.go: %v", err)
	}
	if before != snapshot(t, dir) {
		t.Error("a refused remove changed the project")
	}
}

// Without the sample module (and with no other), web/modules.go still compiles: nothing
// it imports goes unused.
func TestRemoveSampleModuleBuilds(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	if _, err := RemoveModule(dir, "home", false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "web", "home")); err == nil {
		t.Error("web/home is still there")
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsRemoved("web/home") || m.RecordsUnder("web/home") {
		t.Errorf("scaffold.yaml: removed %q, records web/home/ %v", m.Removed, m.RecordsUnder("web/home"))
	}
	if res := mustUpdate(t, dir); res.Conflicts != 0 || entries(res)["web/home/home.go"].Action != "" {
		t.Errorf("update after removing home: %+v", res.Entries)
	}
	if testing.Short() {
		t.Skip("builds the generated project; skipped with -short")
	}
	goCmd(t, dir, "build", "./...")
	goCmd(t, dir, "vet", "./...")
}

// Deleting a file scaffold owns outright is how to get it afresh, not a removal.
func TestDeletedOwnedFileIsWrittenAgain(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	if err := os.Remove(filepath.Join(dir, ModulesFile)); err != nil {
		t.Fatal(err)
	}
	res := mustUpdate(t, dir)
	if e := entries(res)[ModulesFile]; e.Action != state.Create {
		t.Errorf("deleted web/modules.go: %s, want create", e.Action)
	}
	if _, err := os.Stat(filepath.Join(dir, ModulesFile)); err != nil {
		t.Error(err)
	}
}

// add module re-renders the project from every recorded answer, the database included:
// an unedited config.yaml keeps its database section.
func TestAddModuleKeepsDatabase(t *testing.T) {
	dir := generateInto(t, Options{Name: "demo", Database: state.DatabaseSQLite, Version: "v0.0.0-test"})
	if _, err := AddModule(dir, state.Module{Name: "wiki", API: true, Config: true}, false); err != nil {
		t.Fatal(err)
	}
	if cfg := readFile(t, filepath.Join(dir, "config", "config.yaml")); !strings.Contains(cfg, "\ndatabase:\n") || !strings.Contains(cfg, "\n  wiki:\n") {
		t.Errorf("config.yaml after add module in a sqlite project:\n%s", cfg)
	}
	res, err := Update(dir, "v0.0.0-test", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		if e.Action != state.Unchanged {
			t.Errorf("update after add: %s %s", e.Path, e.Action)
		}
	}
}
