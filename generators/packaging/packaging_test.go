package packaging

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/deploy"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// newProject writes what `scaffold new demo` writes into a temporary folder.
func newProject(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	gen, err := New(project.Options{Name: "demo", Version: "v1.0.0"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Files.Commit(dir, false); err != nil {
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
	for _, l := range Layouts("demo") {
		gen, err := deploy.Generate(dir, l.Options)
		if err != nil {
			t.Fatal(err)
		}
		plan, err := gen.Plan(filepath.Join(dir, filepath.FromSlash(l.Out)))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plan {
			if p.Change != deploy.Unchanged {
				t.Errorf("deploy-config into %s would %s %s", l.Out, p.Change, p.Path)
			}
		}
	}
}

// A new project holds the package files exactly as deploy-config writes them, with the
// record (sums and config digest) deploy-config keeps.
func TestNewWritesCurrentUnits(t *testing.T) {
	dir := newProject(t)
	for _, f := range []string{"deploy/systemd/demo.service", "deploy/systemd/demo.socket", "deploy/logrotate/demo",
		"deploy/rpm/systemd/demo.service", "deploy/rpm/systemd/demo.socket", "deploy/.scaffold-sums", "deploy/rpm/.scaffold-sums"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("a new project lacks %s", f)
		}
	}
	if unit := read(t, dir, "deploy/systemd/demo.service"); !strings.Contains(unit, "\nExecStart=/usr/bin/demo ") || !strings.Contains(unit, "\nWorkingDirectory=/usr/share/demo\n") {
		t.Errorf("deploy/systemd/demo.service is not for the package layout:\n%s", unit)
	}
	if unit := read(t, dir, "deploy/rpm/systemd/demo.socket"); !strings.Contains(unit, "\nSocketGroup=nginx\n") {
		t.Errorf("the .rpm's socket unit does not let group nginx in:\n%s", unit)
	}
	assertCurrent(t, dir)
	m, err := project.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for p := range m.Files {
		if strings.HasPrefix(p, "deploy/") {
			t.Errorf("scaffold.yaml records %s too: deploy/.scaffold-sums is its one record", p)
		}
	}
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
	var got []Layout
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if !strings.HasPrefix(line, "scaffold deploy-config ") {
			continue // need-scaffold's check that scaffold is on PATH
		}
		got = append(got, parseDeployConfig(t, line))
	}
	want := Layouts("demo")
	if len(got) != len(want) {
		t.Fatalf("make package-units runs %d commands, Layouts has %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Out != w.Out || !slices.Equal(g.Options.Targets, w.Options.Targets) || g.Options.Prefix != w.Options.Prefix || g.Options.Bin != w.Options.Bin ||
			g.Options.ConfigDir != w.Options.ConfigDir || g.Options.StaticDir != w.Options.StaticDir || g.Options.WebGroup != w.Options.WebGroup {
			t.Errorf("make package-units command %d = %+v\nLayouts says %+v", i+1, g, w)
		}
	}
}

// parseDeployConfig reads a `scaffold deploy-config TARGET... --flag value...` line.
func parseDeployConfig(t *testing.T, line string) Layout {
	t.Helper()
	f := strings.Fields(line)
	if len(f) < 3 || f[0] != "scaffold" || f[1] != "deploy-config" {
		t.Fatalf("not a deploy-config command: %q", line)
	}
	l := Layout{Out: "deploy"}
	for i := 2; i < len(f); i++ {
		if !strings.HasPrefix(f[i], "--") {
			l.Options.Targets = append(l.Options.Targets, f[i])
			continue
		}
		if i+1 == len(f) {
			t.Fatalf("%s without a value: %q", f[i], line)
		}
		v := f[i+1]
		i++
		switch f[i-1] {
		case "--prefix":
			l.Options.Prefix = v
		case "--bin":
			l.Options.Bin = v
		case "--config-dir":
			l.Options.ConfigDir = v
		case "--static-dir":
			l.Options.StaticDir = v
		case "--web-group":
			l.Options.WebGroup = v
		case "--out":
			l.Out = v
		default:
			t.Fatalf("flag %s of %q is not in Layout: add it", f[i-1], line)
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
	before := read(t, dir, "deploy/systemd/demo.service")

	res, err := Update(dir, "v1.0.1", true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(res.Entries, project.UpdateEntry{Path: "deploy/systemd/demo.service", Action: project.UpdateOverwrite}) {
		t.Errorf("dry run entries %v do not update deploy/systemd/demo.service", res.Entries)
	}
	if read(t, dir, "deploy/systemd/demo.service") != before {
		t.Fatal("a dry run wrote deploy/systemd/demo.service")
	}

	if _, err := Update(dir, "v1.0.1", false); err != nil {
		t.Fatal(err)
	}
	if after := read(t, dir, "deploy/systemd/demo.service"); after == before || !strings.Contains(after, "TimeoutStopSec=60\n") {
		t.Errorf("after update, deploy/systemd/demo.service does not stop-wait graceful_timeout 50s + 10s:\n%s", after)
	}
	assertCurrent(t, dir)

	// A hand edit survives the next change; scaffold's version goes beside it.
	edited := read(t, dir, "deploy/rpm/systemd/demo.service") + "# mine\n"
	write(t, dir, "deploy/rpm/systemd/demo.service", edited)
	write(t, dir, "config/config.yaml", strings.Replace(cfg, "graceful_timeout: 30s", "graceful_timeout: 40s", 1))
	res, err = Update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "deploy/rpm/systemd/demo.service"); got != edited {
		t.Errorf("update changed the edited unit:\n%s", got)
	}
	if got := read(t, dir, "deploy/rpm/systemd/demo.service"+project.ConflictSuffix); !strings.Contains(got, "TimeoutStopSec=50\n") {
		t.Errorf("scaffold's version beside the edited unit:\n%s", got)
	}
	if res.Conflicts != 1 || !slices.Contains(res.Entries, project.UpdateEntry{Path: "deploy/rpm/systemd/demo.service", Action: project.UpdateConflict}) {
		t.Errorf("conflicts %d, entries %v: want the edited unit as the one conflict", res.Conflicts, res.Entries)
	}
}

// deploy/ is also deploy-config's default output: units written there for make install's
// /opt layout are left as they are by update.
func TestUpdateLeavesAnotherLayout(t *testing.T) {
	dir := newProject(t)
	gen, err := deploy.Generate(dir, deploy.Options{Targets: []string{"systemd"}})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "deploy")
	plan, err := gen.Plan(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := deploy.Write(out, plan, false); err != nil {
		t.Fatal(err)
	}
	opt := read(t, dir, "deploy/systemd/demo.service")
	if !strings.Contains(opt, "ExecStart=/opt/demo/bin/demo ") {
		t.Fatalf("deploy-config's default unit does not run /opt/demo/bin/demo:\n%s", opt)
	}
	res, err := Update(dir, "v1.0.1", false)
	if err != nil {
		t.Fatal(err)
	}
	if got := read(t, dir, "deploy/systemd/demo.service"); got != opt {
		t.Errorf("update rewrote the /opt unit:\n%s", got)
	}
	if !slices.Contains(res.Entries, project.UpdateEntry{Path: "deploy/systemd/demo.service", Action: project.UpdateKept}) {
		t.Errorf("entries %v do not report the /opt unit as kept", res.Entries)
	}
}
