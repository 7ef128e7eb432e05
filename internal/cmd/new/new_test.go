package new

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cmdtest"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
	"github.com/scaffoldgo/scaffold/internal/prompter"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// Flags bind into Options, and which of them were given is recorded for the prompts.
func TestNewCmdNewFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Options
		wantErr string
	}{
		{name: "defaults", args: []string{"shop"},
			want: Options{Arg: "shop", Port: project.DefaultPort, Workers: project.DefaultWorkers, DB: state.DatabaseNone}},
		{name: "everything", args: []string{"shop", "--module", "github.com/acme/shop", "--port", "9000", "--workers", "3", "--maintainer", "Ada <ada@example.com>", "-y", "--force", "--dry-run"},
			want: Options{Arg: "shop", Module: "github.com/acme/shop", Port: 9000, Workers: 3, DB: state.DatabaseNone, Maintainer: "Ada <ada@example.com>", Yes: true, Force: true, DryRun: true, moduleSet: true, portSet: true, workersSet: true, maintainerSet: true}},
		{name: "current folder", args: []string{".", "--workers", "1"},
			want: Options{Arg: ".", Port: project.DefaultPort, Workers: 1, DB: state.DatabaseNone, workersSet: true}},
		{name: "no name", args: nil, wantErr: "new needs exactly one NAME (or . for the current folder), got 0 arguments"},
		{name: "two names", args: []string{"a", "b"}, wantErr: "got 2 arguments"},
		{name: "port not a number", args: []string{"shop", "--port", "http"}, wantErr: `invalid argument "http" for "--port"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ios, err := cmdtest.Parse(NewCmdNew, tt.args...)
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			g.IO, g.Prompter, g.Getwd, g.GitMaintainer = nil, nil, nil, nil
			if !reflect.DeepEqual(g, tt.want) {
				t.Errorf("options = %+v\nwant      %+v", g, tt.want)
			}
			if got.IO != ios || got.Prompter == nil || got.Getwd == nil || got.GitMaintainer == nil {
				t.Errorf("options lack the factory's streams, a prompter or Getwd: %+v", got)
			}
		})
	}
}

// answers is a Prompter that answers each question by title and records what was asked.
type answers struct {
	by    map[string]string
	asked []string
}

func (a *answers) Ask(qs []prompter.Question) error {
	for _, q := range qs {
		a.asked = append(a.asked, q.Title)
		if err := q.Validate(a.by[q.Title]); err != nil {
			return err
		}
		*q.Answer = a.by[q.Title]
	}
	return nil
}

// testOptions runs in a temporary working folder, without a terminal, like a CI job.
func testOptions(t *testing.T, arg string) (*Options, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	wd := t.TempDir()
	return &Options{IO: ios, Getwd: func() (string, error) { return wd, nil }, Prompter: &answers{},
		GitMaintainer: func() string { return "Git User <git@example.com>" },
		Arg:           arg, Port: project.DefaultPort, Workers: project.DefaultWorkers, DB: state.DatabaseNone}, out, errOut
}

func wd(t *testing.T, o *Options) string {
	t.Helper()
	d, err := o.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Without a terminal the defaults are used and said; the project, package units included,
// is written and the next steps printed.
func TestNewRunWithoutTerminal(t *testing.T) {
	opts, out, errOut := testOptions(t, "shop")
	if err := newRun(opts); err != nil {
		t.Fatal(err)
	}
	if want := "No terminal to ask on: using --module shop --port 8000 --workers 2 --db none --maintainer \"Git User <git@example.com>\" (pass --yes to say so).\n"; errOut.String() != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
	if !strings.HasPrefix(out.String(), "Created shop (module shop) in shop: ") || !strings.Contains(out.String(), "\n  cd shop\n") {
		t.Errorf("stdout:\n%s", out)
	}
	dir := filepath.Join(wd(t, opts), "shop")
	for _, f := range []string{"go.mod", "scaffold.yaml", "wsgi/main.go", "packaging/systemd/shop.service", "packaging/rpm/systemd/shop.socket"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("shop/%s not written: %v", f, err)
		}
	}
}

// On a terminal only the values no flag gave are asked for, and the equivalent command
// without prompts is printed.
func TestNewRunPrompts(t *testing.T) {
	opts, _, errOut := testOptions(t, "shop")
	opts.IO.SetTTY(true, true, true)
	opts.portSet = true
	a := &answers{by: map[string]string{"Go module path": "github.com/acme/shop", "Production workers": "5", "Database": "none", "Package maintainer": "Ada Lovelace <ada@example.com>"}}
	opts.Prompter = a
	if err := newRun(opts); err != nil {
		t.Fatal(err)
	}
	if strings.Join(a.asked, ",") != "Go module path,Production workers,Database,Package maintainer" {
		t.Errorf("asked %v, want the module and workers only (--port was given)", a.asked)
	}
	if want := `scaffold new shop --module github.com/acme/shop --port 8000 --workers 5 --db none --maintainer "Ada Lovelace <ada@example.com>" --yes`; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr does not show %q:\n%s", want, errOut)
	}
	gomod, err := os.ReadFile(filepath.Join(wd(t, opts), "shop", "go.mod"))
	if err != nil || !strings.HasPrefix(string(gomod), "module github.com/acme/shop\n") {
		t.Errorf("go.mod = %q, %v", gomod, err)
	}
}

// The packages' maintainer: --maintainer when given (canonical form), else git's user, else
// the placeholder; recorded in scaffold.yaml's answers so `scaffold update` keeps it. A
// malformed one is refused naming the flag and the rule, before anything is written.
func TestNewRunMaintainer(t *testing.T) {
	for _, tc := range []struct {
		flag, git, want string
	}{
		{flag: "  Ada Lovelace   <ada@example.com> ", git: "Git User <git@example.com>", want: "Ada Lovelace <ada@example.com>"},
		{git: "Git User <git@example.com>", want: "Git User <git@example.com>"},
		{want: project.PlaceholderMaintainer},
	} {
		opts, _, _ := testOptions(t, "shop")
		opts.Yes = true
		opts.GitMaintainer = func() string { return tc.git }
		if tc.flag != "" {
			opts.Maintainer, opts.maintainerSet = tc.flag, true
		}
		if err := newRun(opts); err != nil {
			t.Fatal(err)
		}
		m, err := state.LoadManifest(filepath.Join(wd(t, opts), "shop"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Answers.Maintainer != tc.want {
			t.Errorf("flag %q, git %q: scaffold.yaml's maintainer = %q, want %q", tc.flag, tc.git, m.Answers.Maintainer, tc.want)
		}
	}
	for _, bad := range []string{"ada@example.com", "Ada <ada>", "Ada, Bob <ab@example.com>", "{{ .Env.X }} <a@example.com>"} {
		opts, _, _ := testOptions(t, "shop")
		opts.Yes = true
		opts.Maintainer, opts.maintainerSet = bad, true
		err := newRun(opts)
		if err == nil || !strings.Contains(err.Error(), "--maintainer: maintainer ") || !strings.Contains(err.Error(), project.MaintainerRule) {
			t.Errorf("--maintainer %q: err %v, want one naming --maintainer and the rule %s", bad, err, project.MaintainerRule)
		}
		if _, statErr := os.Stat(filepath.Join(wd(t, opts), "shop")); statErr == nil {
			t.Errorf("--maintainer %q: shop/ was written", bad)
		}
	}
}

// --yes never prompts, even on a terminal.
func TestNewRunYes(t *testing.T) {
	opts, _, errOut := testOptions(t, "shop")
	opts.IO.SetTTY(true, true, true)
	opts.Yes = true
	a := &answers{}
	opts.Prompter = a
	if err := newRun(opts); err != nil {
		t.Fatal(err)
	}
	if len(a.asked) != 0 || errOut.Len() != 0 {
		t.Errorf("--yes asked %v and said %q", a.asked, errOut)
	}
}

// A dry run lists every file, package units included, and writes nothing.
func TestNewRunDryRun(t *testing.T) {
	opts, out, errOut := testOptions(t, "shop")
	opts.DryRun = true
	if err := newRun(opts); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"create    " + filepath.Join("shop", "go.mod") + "\n", "create    " + filepath.Join("shop", "packaging", "systemd", "shop.service") + "\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run does not list %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut.String(), "nothing was written") {
		t.Errorf("stderr = %q", errOut)
	}
	if _, err := os.Stat(filepath.Join(wd(t, opts), "shop")); !os.IsNotExist(err) {
		t.Errorf("a dry run created shop/: %v", err)
	}
}

// "." takes the folder's name; a folder name that cannot name a project is refused.
func TestNewRunCurrentFolder(t *testing.T) {
	opts, out, _ := testOptions(t, ".")
	dir := filepath.Join(wd(t, opts), "blog")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Getwd = func() (string, error) { return dir, nil }
	if err := newRun(opts); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Created blog (module blog) in .: ") || strings.Contains(out.String(), "cd ") {
		t.Errorf("stdout:\n%s", out)
	}
	bad := filepath.Join(wd(t, opts), "Not_A_Name")
	if err := os.Mkdir(bad, 0o755); err != nil {
		t.Fatal(err)
	}
	opts.Getwd = func() (string, error) { return bad, nil }
	if err := newRun(opts); err == nil || !strings.Contains(err.Error(), "the current folder's name cannot name the project") {
		t.Errorf("err = %v", err)
	}
}

// A non-empty folder is refused without --force and left as it was; bad flag values are
// usage errors naming the flag, before anything is written.
func TestNewRunRefusals(t *testing.T) {
	opts, _, _ := testOptions(t, "shop")
	dir := filepath.Join(wd(t, opts), "shop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := newRun(opts)
	if err == nil || !strings.Contains(err.Error(), "shop already exists and is not empty") {
		t.Errorf("err = %v, want the not-empty refusal", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the refused folder now holds %d entries", len(entries))
	}

	for _, tc := range []struct {
		set  func(*Options)
		want string
	}{
		{func(o *Options) { o.Port = 70000 }, "--port: "},
		{func(o *Options) { o.Workers = 0 }, "--workers: "},
		{func(o *Options) { o.Module, o.moduleSet = "Bad Module", true }, "--module: "},
	} {
		opts, _, _ := testOptions(t, "other")
		tc.set(opts)
		err := newRun(opts)
		var fe *cmdutil.FlagError
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || !errors.As(err, &fe) {
			t.Errorf("err = %v, want a usage error starting %q", err, tc.want)
		}
		if _, serr := os.Stat(filepath.Join(wd(t, opts), "other")); !os.IsNotExist(serr) {
			t.Errorf("%s: other/ was written", tc.want)
		}
	}
}

// TestNewRunInitsGit: the new project is a git repository (make build's VERSION comes
// from git describe), unless its folder is inside one already, which keeps its own.
func TestNewRunInitsGit(t *testing.T) {
	git := testenv.Tool(t, "git")
	opts, out, _ := testOptions(t, "shop")
	opts.Yes = true
	if err := newRun(opts); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(wd(t, opts), "shop", ".git")); err != nil || !fi.IsDir() {
		t.Errorf("no shop/.git: %v", err)
	}
	if !strings.Contains(out.String(), "Initialized a git repository in shop (nothing committed).\n") {
		t.Errorf("stdout does not say so:\n%s", out)
	}

	inRepo, out, _ := testOptions(t, "shop")
	inRepo.Yes = true
	if b, err := exec.Command(git, "init", "--quiet", wd(t, inRepo)).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v %s", err, b)
	}
	if err := newRun(inRepo); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(wd(t, inRepo), "shop", ".git")); !os.IsNotExist(err) {
		t.Errorf("inside a repository, shop/.git was made: %v", err)
	}
	if strings.Contains(out.String(), "Initialized") {
		t.Errorf("inside a repository, stdout says:\n%s", out)
	}
}
