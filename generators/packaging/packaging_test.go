package packaging_test

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/packaging"
	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// newProject writes what `scaffold new demo` writes into a temporary folder.
func newProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	if err := pipeline.New(&pipeline.NewRun{Options: project.Options{Name: "demo", Version: "v1.0.0"}, Target: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

func read(t *testing.T, dir, rel string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func write(t *testing.T, dir, rel, data string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// assertCurrent fails unless deploy-config, run on the project as it is on disk with each
// layout's options, would change nothing: what `make package-units` would then report.
func assertCurrent(t *testing.T, dir string) {
	t.Helper()
	for _, l := range packaging.Layouts("demo") {
		gen, err := deploy.Generate(dir, l)
		if err != nil {
			t.Fatal(err)
		}
		out, err := deploy.Locate(dir, l.Out)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := gen.Plan(out)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plan {
			if p.Change != state.Unchanged {
				t.Errorf("deploy-config into %s would %s %s", l.Out, p.Change, p.Path)
			}
		}
	}
}

// A new project holds the package files exactly as deploy-config writes them, with the
// record deploy-config keeps in scaffold.yaml: each file's checksum and the digest of the
// config/ it was derived from.
func TestNewWritesCurrentUnits(t *testing.T) {
	dir := newProject(t)
	units := []string{"packaging/logrotate/demo", "packaging/rpm/systemd/demo.service", "packaging/rpm/systemd/demo.socket", "packaging/systemd/demo.service", "packaging/systemd/demo.socket"}
	for _, f := range units {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("a new project lacks %s", f)
		}
	}
	if unit := read(t, dir, "packaging/systemd/demo.service"); !strings.Contains(unit, "\nExecStart=/usr/bin/demo ") || !strings.Contains(unit, "\nWorkingDirectory=/usr/share/demo\n") {
		t.Errorf("packaging/systemd/demo.service is not for the package layout:\n%s", unit)
	}
	if unit := read(t, dir, "packaging/rpm/systemd/demo.socket"); !strings.Contains(unit, "\nSocketGroup=nginx\n") {
		t.Errorf("the .rpm's socket unit does not let group nginx in:\n%s", unit)
	}
	assertCurrent(t, dir)
	m, digest := record(t, dir)
	var derived []string
	for p, from := range m.DerivedFrom {
		derived = append(derived, p)
		if from != digest {
			t.Errorf("scaffold.yaml says %s was derived from config %s, config/ is %s", p, from, digest)
		}
		if m.Files[p] != state.FileChecksum([]byte(read(t, dir, p))) {
			t.Errorf("scaffold.yaml's checksum of %s is %s, not the file's", p, m.Files[p])
		}
	}
	slices.Sort(derived)
	want := append([]string{"packaging/README.md", "packaging/rpm/README.md"}, units...)
	slices.Sort(want)
	if !slices.Equal(derived, want) {
		t.Errorf("scaffold.yaml's derived_from records %v, want the package units and READMEs %v", derived, want)
	}
}

// record is dir's scaffold.yaml and the digest of its config/ as it is now.
func record(t *testing.T, dir string) (*state.Manifest, string) {
	t.Helper()
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	digest, err := deploy.ConfigDigest(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return m, digest
}

// The Makefile's `make package-units` runs deploy-config with exactly Layouts' options.
func TestLayoutsAreTheMakefiles(t *testing.T) {
	mk := testenv.Tool(t, "make")
	dir := newProject(t)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mk, "-n", "--no-print-directory", "package-units", "SCAFFOLD=scaffold")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make -n package-units: %v\n%s", err, out)
	}
	var got []packaging.Layout
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(line, "scaffold deploy-config ") {
			continue // need-scaffold's check that scaffold is on PATH
		}
		got = append(got, parseDeployConfig(t, line))
	}
	want := packaging.Layouts("demo")
	if len(got) != len(want) {
		t.Fatalf("make package-units runs %d commands, Layouts has %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Out != w.Out || !slices.Equal(g.Targets, w.Targets) || g.Prefix != w.Prefix || g.Bin != w.Bin ||
			g.ConfigDir != w.ConfigDir || g.StaticDir != w.StaticDir || g.WebGroup != w.WebGroup {
			t.Errorf("make package-units command %d = %+v\nLayouts says %+v", i+1, g, w)
		}
	}
}

// parseDeployConfig reads a `scaffold deploy-config TARGET... --flag value...` line.
func parseDeployConfig(t *testing.T, line string) packaging.Layout {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "scaffold" || f[1] != "deploy-config" {
		t.Fatalf("not a deploy-config command: %q", line)
	}
	l := packaging.Layout{Out: "deploy"}
	for i := 2; i < len(f); i++ {
		if !strings.HasPrefix(f[i], "--") {
			l.Targets = append(l.Targets, f[i])
			continue
		}
		if i+1 == len(f) {
			t.Fatalf("%s without a value: %q", f[i], line)
		}
		v := f[i+1]
		i++
		switch f[i-1] {
		case "--prefix":
			l.Prefix = v
		case "--bin":
			l.Bin = v
		case "--config-dir":
			l.ConfigDir = v
		case "--static-dir":
			l.StaticDir = v
		case "--web-group":
			l.WebGroup = v
		case "--out":
			l.Out = v
		default:
			t.Fatalf("flag %s of %q is not in packaging.Layout: add it", f[i-1], line)
		}
	}
	return l
}

// Update derives the units from config/ as it is: a changed graceful_timeout reaches
// TimeoutStopSec in the same commit as the template update, an edited unit is kept with
// scaffold's version beside it, and a dry run writes nothing.
func TestUpdateRefreshesUnits(t *testing.T) {
	dir := newProject(t)
	cfg := read(t, dir, "config/config.yaml")
	if !strings.Contains(cfg, "graceful_timeout: 30s") {
		t.Fatalf("config/config.yaml has no graceful_timeout: 30s to change:\n%s", cfg)
	}
	write(t, dir, "config/config.yaml", strings.Replace(cfg, "graceful_timeout: 30s", "graceful_timeout: 50s", 1))
	before := read(t, dir, "packaging/systemd/demo.service")

	res, err := update(dir, "v1.0.1", true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Entries, project.UpdateEntry{Path: "packaging/systemd/demo.service", Action: state.Overwrite}) {
		t.Errorf("dry run entries %v do not update packaging/systemd/demo.service", res.Entries)
	}
	if read(t, dir, "packaging/systemd/demo.service") != before {
		t.Fatal("a dry run wrote packaging/systemd/demo.service")
	}

	if _, err := update(dir, "v1.0.1", false); err != nil {
		t.Fatal(err)
	}
	if after := read(t, dir, "packaging/systemd/demo.service"); after == before || !strings.Contains(after, "TimeoutStopSec=60\n") {
		t.Errorf("after update, packaging/systemd/demo.service does not stop-wait graceful_timeout 50s + 10s:\n%s", after)
	}
	assertCurrent(t, dir)

	// A hand edit survives the next change; scaffold's version goes beside it.
	edited := read(t, dir, "packaging/rpm/systemd/demo.service") + "# mine\n"
	write(t, dir, "packaging/rpm/systemd/demo.service", edited)
	write(t, dir, "config/config.yaml", strings.Replace(cfg, "graceful_timeout: 30s", "graceful_timeout: 40s", 1))
	res, err = update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "packaging/rpm/systemd/demo.service"); got != edited {
		t.Errorf("update changed the edited unit:\n%s", got)
	}
	if got := read(t, dir, "packaging/rpm/systemd/demo.service"+state.ConflictSuffix); !strings.Contains(got, "TimeoutStopSec=50\n") {
		t.Errorf("scaffold's version beside the edited unit:\n%s", got)
	}
	if res.Conflicts != 1 || !slices.Contains(res.Entries, project.UpdateEntry{Path: "packaging/rpm/systemd/demo.service", Action: state.Conflict}) {
		t.Errorf("conflicts %d, entries %v: want the edited unit as the one conflict", res.Conflicts, res.Entries)
	}
	// Until its .scaffold-new is merged and deleted, every update lists it, and leaves it.
	res, err = update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if res.Unresolved != 1 || !slices.Contains(res.Entries, project.UpdateEntry{Path: "packaging/rpm/systemd/demo.service", Action: state.Unresolved}) {
		t.Errorf("second update: unresolved %d, entries %v: want the unit listed", res.Unresolved, res.Entries)
	}
	if got := read(t, dir, "packaging/rpm/systemd/demo.service"); got != edited {
		t.Errorf("the second update changed the edited unit:\n%s", got)
	}
}

// A package file the user deleted stays deleted, as the project's own files do: reported
// once, recorded under removed:, and quiet after.
func TestUpdateKeepsRemovedUnits(t *testing.T) {
	dir := newProject(t)
	const unit = "packaging/rpm/systemd/demo.socket"
	if err := os.Remove(filepath.Join(dir, filepath.FromSlash(unit))); err != nil {
		t.Fatal(err)
	}
	res, err := update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Entries, project.UpdateEntry{Path: unit, Action: state.Removed}) {
		t.Errorf("entries %v do not report %s removed", res.Entries, unit)
	}
	m, _ := record(t, dir)
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(unit))); err == nil || !m.IsRemoved(unit) || m.Files[unit] != "" {
		t.Errorf("%s written again (%v), or not recorded as removed (%q)", unit, err, m.Removed)
	}
	res, err = update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		if e.Path == unit {
			t.Errorf("second update reported %s: %s", unit, e.Action)
		}
	}
}

// A user's own host layout (deploy-config's default --out deploy, /opt/demo) and the
// package layout (packaging/) never meet: `deploy-config all` writes every file without
// --force, packaging/ is untouched, and update then leaves deploy/ as it is. Units written
// into packaging/ for another layout (deploy-config --out packaging by hand) are kept.
func TestHostLayoutBesidePackageLayout(t *testing.T) {
	dir := newProject(t)
	pkg := snapshot(t, dir, "packaging")
	if err := deployConfig(t, dir, "deploy", false, "all"); err != nil {
		t.Fatalf("deploy-config all on a new project: %v", err)
	}
	host := snapshot(t, dir, "deploy")
	if !strings.Contains(host["systemd/demo.service"], "ExecStart=/opt/demo/bin/demo ") {
		t.Fatalf("deploy-config's default unit does not run /opt/demo/bin/demo:\n%s", host["systemd/demo.service"])
	}
	if got := snapshot(t, dir, "packaging"); !maps.Equal(got, pkg) {
		t.Errorf("deploy-config all changed packaging/")
	}
	assertCurrent(t, dir)
	res, err := update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, dir, "deploy"); !maps.Equal(got, host) {
		t.Errorf("update changed deploy-config's host files in deploy/")
	}
	if slices.ContainsFunc(res.Entries, func(e project.UpdateEntry) bool { return strings.HasPrefix(e.Path, "deploy/") }) {
		t.Errorf("update reports deploy/: entries %v", res.Entries)
	}

	if err := deployConfig(t, dir, "packaging", true, "systemd"); err != nil {
		t.Fatal(err)
	}
	opt := read(t, dir, "packaging/systemd/demo.service")
	if res, err = update(dir, "v1.0.1", false); err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "packaging/systemd/demo.service"); got != opt {
		t.Errorf("update rewrote the /opt unit in packaging/:\n%s", got)
	}
	if !slices.Contains(res.Entries, project.UpdateEntry{Path: "packaging/systemd/demo.service", Action: state.Kept}) {
		t.Errorf("entries %v do not report the /opt unit as kept", res.Entries)
	}
}

// snapshot is every file under dir/sub, by path relative to it.
func snapshot(t *testing.T, dir, sub string) map[string]string {
	t.Helper()
	files := map[string]string{}
	root := filepath.Join(dir, sub)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		files[filepath.ToSlash(rel)] = read(t, root, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// deployConfig runs what `scaffold deploy-config TARGETS --out out` runs.
func deployConfig(t *testing.T, dir, out string, force bool, targets ...string) error {
	t.Helper()
	targets, err := deploy.ParseTargets(targets)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.DeployConfig(&pipeline.DeployConfigRun{Ctx: context.Background(), Dir: dir, Options: deploy.Options{Targets: targets, Out: out}, Force: force})
}

// packageCheck runs the project's `make package-check` (goreleaser's before hook, which
// reads scaffold.yaml with awk: scaffold is not installed on a release runner) and
// returns its output and whether it passed.
func packageCheck(t *testing.T, mk, dir string) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, mk, "--no-print-directory", "package-check")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH=/usr/bin:/bin") // no scaffold
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// `make package-check` tells the three ways packaging/ can be wrong for the packages
// apart, from scaffold.yaml alone: current (a new project, after `deploy-config all` into
// deploy/), stale
// (config/ changed since the units were derived), written for another layout, missing.
func TestPackageCheck(t *testing.T) {
	mk := testenv.Tool(t, "make")
	dir := newProject(t)
	if out, ok := packageCheck(t, mk, dir); !ok {
		t.Fatalf("make package-check fails on a new project:\n%s", out)
	}
	// The defect this layout fixes: deploy-config's host layout replaced the package units.
	if err := deployConfig(t, dir, "deploy", false, "all"); err != nil {
		t.Fatal(err)
	}
	if out, ok := packageCheck(t, mk, dir); !ok {
		t.Fatalf("after deploy-config all: make package-check fails:\n%s", out)
	}
	cfg := read(t, dir, "config/config.yaml")
	write(t, dir, "config/config.yaml", strings.Replace(cfg, "graceful_timeout: 30s", "graceful_timeout: 45s", 1))
	if out, ok := packageCheck(t, mk, dir); ok || !strings.Contains(out, "packaging/systemd/demo.service is stale: config/ changed since it was derived from it (derived_from in scaffold.yaml)") {
		t.Errorf("after a config change: passed %v, want the stale unit named:\n%s", ok, out)
	}
	write(t, dir, "config/config.yaml", cfg)
	if out, ok := packageCheck(t, mk, dir); !ok {
		t.Errorf("config/ back as it was: make package-check fails:\n%s", out)
	}

	if err := deployConfig(t, dir, "packaging", true, "systemd"); err != nil {
		t.Fatal(err)
	}
	if out, ok := packageCheck(t, mk, dir); ok || !strings.Contains(out, "packaging/systemd/demo.service was not written for the package layout") {
		t.Errorf("with /opt units in packaging/: passed %v, want the other layout named:\n%s", ok, out)
	}
	if err := os.Remove(filepath.Join(dir, "packaging", "rpm", "systemd", "demo.socket")); err != nil {
		t.Fatal(err)
	}
	if out, ok := packageCheck(t, mk, dir); ok || !strings.Contains(out, "packaging/rpm/systemd/demo.socket is missing: run 'make package-units'") {
		t.Errorf("without a unit: passed %v, want it named missing:\n%s", ok, out)
	}
}

// An --out outside the project folder is recorded in scaffold.yaml as given: relative
// (../ops) or absolute, so the same --out finds it again and an edit there is still
// refused; the files and the record are written together.
func TestDeployConfigOutsideTheProject(t *testing.T) {
	dir := newProject(t)
	abs := filepath.Join(t.TempDir(), "srv")
	for _, c := range []struct{ out, key string }{
		{"../ops/deploy", "../ops/deploy/nginx/demo.conf"},
		{abs, filepath.ToSlash(abs) + "/nginx/demo.conf"},
	} {
		if err := deployConfig(t, dir, c.out, false, "nginx"); err != nil {
			t.Fatalf("--out %s: %v", c.out, err)
		}
		site := filepath.Join(dir, c.out, "nginx", "demo.conf")
		if filepath.IsAbs(c.out) {
			site = filepath.Join(c.out, "nginx", "demo.conf")
		}
		data, err := os.ReadFile(site)
		if err != nil {
			t.Fatal(err)
		}
		m, err := state.LoadManifest(dir)
		if err != nil {
			t.Fatal(err)
		}
		if m.Files[c.key] != state.FileChecksum(data) || m.DerivedFrom[c.key] == "" {
			t.Errorf("--out %s: scaffold.yaml records %s as %q from %q, want the site's checksum and config", c.out, c.key, m.Files[c.key], m.DerivedFrom[c.key])
		}
		if err := os.WriteFile(site, append(data, "# mine\n"...), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg := read(t, dir, "config/config.yaml")
		write(t, dir, "config/config.yaml", strings.Replace(cfg, "timeout: 30s", "timeout: 31s", 1))
		var edited *deploy.EditedError
		if err := deployConfig(t, dir, c.out, false, "nginx"); !errors.As(err, &edited) {
			t.Errorf("--out %s: an edited site outside the project was not refused: %v", c.out, err)
		}
		write(t, dir, "config/config.yaml", cfg)
	}
	if _, err := os.Stat(filepath.Join(dir, "ops")); !os.IsNotExist(err) {
		t.Errorf("--out ../ops/deploy wrote inside the project: %v", err)
	}
}

// Each README's install commands name the files where that README's folder has them.
func TestReadmesNameTheirOwnFolder(t *testing.T) {
	dir := newProject(t)
	for readme, want := range map[string]string{
		"packaging/README.md":     "sudo install -m 0644 packaging/systemd/demo.socket packaging/systemd/demo.service /etc/systemd/system/",
		"packaging/rpm/README.md": "sudo install -m 0644 packaging/rpm/systemd/demo.socket packaging/rpm/systemd/demo.service /etc/systemd/system/",
	} {
		text := read(t, dir, readme)
		if !strings.Contains(text, want) || strings.Contains(text, " deploy/") {
			t.Errorf("%s does not name its own files (%q):\n%s", readme, want, text)
		}
	}
}

// update runs `scaffold update`'s pipeline, the package units a step of it.
func update(dir, version string, dryRun bool) (*project.UpdateResult, error) {
	run := &pipeline.UpdateRun{Dir: dir, Version: version, DryRun: dryRun}
	err := pipeline.Update(run)
	return run.Result, err
}
