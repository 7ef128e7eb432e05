package pipeline

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

func names[C any](steps []generators.Step[C]) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.String())
	}
	return out
}

// Every command's pipeline ends in plan and commit, goreleaser's shape: nothing is written
// before the commit, and that step is the one atomic commit. Only new has a step after it,
// git init, which writes nothing scaffold generates.
func TestEveryPipelineEndsInPlanAndCommit(t *testing.T) {
	for cmd, steps := range map[string][]string{
		"new":           names(NewSteps()),
		"update":        names(UpdateSteps()),
		"vendor":        names(VendorSteps()),
		"add module":    names(AddModuleSteps()),
		"remove module": names(RemoveModuleSteps()),
		"deploy-config": names(DeployConfigSteps()),
	} {
		n := len(steps)
		if cmd == "new" && n > 0 && steps[n-1] == "git init" {
			n--
		}
		if n < 2 || steps[n-1] != "commit" || !strings.HasPrefix(steps[n-2], "plan") || (cmd == "new" && n != len(steps)-1) {
			t.Errorf("%s: steps %q do not end in plan and commit", cmd, steps)
		}
	}
	if got := strings.Join(names(UpdateSteps()), ", "); !strings.Contains(got, "package units") {
		t.Errorf("update's steps %q: the package units are not one of them", got)
	}
	if got := strings.Join(names(NewSteps()), ", "); !strings.Contains(got, "package units") {
		t.Errorf("new's steps %q: the package units are not one of them", got)
	}
}

// newProject runs `scaffold new demo` into a temporary folder.
func newProject(t *testing.T, version string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	run := &NewRun{Options: project.Options{Name: "demo", Version: version}, Target: dir}
	if err := New(run); err != nil {
		t.Fatal(err)
	}
	for i, f := range run.Project.Files.Files() {
		if run.Changes[i] != state.Create {
			t.Errorf("new: %s planned as %s, want create", f.Path, run.Changes[i])
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "packaging", "systemd", "demo.service")); err != nil {
		t.Errorf("new wrote no package units: %v", err)
	}
	return dir
}

// snapshot is every file under dir, by path.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		files[p] = string(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func sameFiles(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	if len(before) != len(after) {
		t.Errorf("%s: %d files before, %d after", what, len(before), len(after))
	}
	for p, data := range before {
		if after[p] != data {
			t.Errorf("%s changed %s", what, p)
		}
	}
}

// A dry run of each pipeline plans (its report is filled in) and skips the commit.
func TestDryRunsWriteNothing(t *testing.T) {
	target := filepath.Join(t.TempDir(), "demo")
	dryNew := &NewRun{Options: project.Options{Name: "demo", Version: "v1.0.0"}, Target: target, DryRun: true}
	if err := New(dryNew); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(target); !errors.Is(err, fs.ErrNotExist) || len(dryNew.Changes) != dryNew.Project.Files.Len() {
		t.Fatalf("dry new: %s made (%v), or %d changes planned for %d files", target, err, len(dryNew.Changes), dryNew.Project.Files.Len())
	}

	dir := newProject(t, "v1.0.0")
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, filepath.Dir(dir))
	update := &UpdateRun{Dir: dir, Version: "v1.0.1", DryRun: true}
	vendor := &VendorRun{Dir: dir, Version: "v1.0.1", DryRun: true}
	add := &AddModuleRun{Dir: dir, Module: state.Module{Name: "wiki", API: true, Page: true}, DryRun: true}
	remove := &RemoveModuleRun{Dir: dir, Name: "home", DryRun: true}
	deployConfig := &DeployConfigRun{Ctx: context.Background(), Dir: dir, Options: deploy.Options{Targets: []string{"nginx"}, Out: "deploy"}, DryRun: true}
	for what, run := range map[string]func() error{
		"update": func() error { return Update(update) }, "vendor": func() error { return Vendor(vendor) },
		"add module": func() error { return AddModule(add) }, "remove module": func() error { return RemoveModule(remove) },
		"deploy-config": func() error { return DeployConfig(deployConfig) },
	} {
		if err := run(); err != nil {
			t.Fatalf("dry %s: %v", what, err)
		}
		sameFiles(t, "dry "+what, before, snapshot(t, filepath.Dir(dir)))
	}
	if update.Result == nil || update.Result.Conflicts == 0 || vendor.Result == nil || !vendor.Result.DryRun || len(add.Result.Changes) == 0 || len(remove.Result.Changes) == 0 || len(deployConfig.Plan) == 0 {
		t.Errorf("a dry run reported nothing: update %+v, vendor %+v, add %+v, remove %+v, deploy-config %d files", update.Result, vendor.Result, add.Result, remove.Result, len(deployConfig.Plan))
	}
}

// `scaffold new` into a folder that is not empty, without --force, is refused by the
// commit with state.ErrNotEmpty, and the folder is left as it was.
func TestNewRefusesAFolderNotEmpty(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := New(&NewRun{Options: project.Options{Name: "demo"}, Target: dir})
	var stepErr *generators.StepError
	if !errors.Is(err, state.ErrNotEmpty) || !errors.As(err, &stepErr) || stepErr.Step != "commit" {
		t.Fatalf("new into a folder not empty: %v, want ErrNotEmpty from the commit", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the folder holds %d entries, want only mine.txt", len(entries))
	}
}

// --out is resolved once, first: outside the project it is recorded as given, and the
// project folder itself is refused before anything is generated.
func TestDeployConfigResolvesOutOnce(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	run := &DeployConfigRun{Ctx: context.Background(), Dir: dir, Options: deploy.Options{Targets: []string{"nginx"}, Out: "../ops"}}
	if err := DeployConfig(run); err != nil {
		t.Fatal(err)
	}
	if run.Out.Inside || run.Out.Key != "../ops" || run.Out.Path != filepath.Join(dir, "..", "ops") {
		t.Errorf("--out ../ops resolved to %+v", run.Out)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "ops", "nginx", "demo.conf")); err != nil {
		t.Errorf("the nginx site is not in ../ops: %v", err)
	}
	m, err := state.LoadManifest(dir)
	if err != nil || m.Files["../ops/nginx/demo.conf"] == "" {
		t.Errorf("scaffold.yaml does not record ../ops/nginx/demo.conf: %v", err)
	}

	self := &DeployConfigRun{Ctx: context.Background(), Dir: dir, Options: deploy.Options{Targets: []string{"nginx"}, Out: "."}}
	err = DeployConfig(self)
	var input *deploy.InputError
	var stepErr *generators.StepError
	if !errors.As(err, &input) || input.Flag != "--out" || !errors.As(err, &stepErr) || stepErr.Step != "locate" || self.Generated != nil {
		t.Errorf("--out . : %v (generated: %v), want --out refused by the locate step", err, self.Generated != nil)
	}
}
