package add

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// parse runs `scaffold add ARGS` up to the run function and returns the options it got.
func parse(t *testing.T, args ...string) (*ModuleOptions, error) {
	t.Helper()
	ios, _, _, _ := iostreams.Test()
	var got *ModuleOptions
	cmd := NewCmdAdd(&cmdutil.Factory{IOStreams: ios}, func(o *ModuleOptions) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	err := cmd.Execute()
	return got, err
}

func TestFlags(t *testing.T) {
	tests := []struct {
		args                      []string
		api, page, config, dryRun bool
		dir                       string
	}{
		{[]string{"module", "orders"}, false, false, false, false, "."},
		{[]string{"module", "orders", "--api", "--config"}, true, false, true, false, "."},
		{[]string{"module", "blog", "--page", "--dry-run", "--dir", "x"}, false, true, false, true, "x"},
	}
	for _, tt := range tests {
		o, err := parse(t, tt.args...)
		if err != nil {
			t.Fatalf("%v: %v", tt.args, err)
		}
		if o.Name != tt.args[1] || o.API != tt.api || o.Page != tt.page || o.Config != tt.config || o.DryRun != tt.dryRun || o.Dir != tt.dir {
			t.Errorf("%v: options %+v", tt.args, o)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for args, want := range map[string]string{
		"module":                     "exactly one NAME, got 0",
		"module a b":                 "exactly one NAME, got 2",
		"module orders --api --page": "--api and --page exclude each other",
	} {
		_, err := parse(t, strings.Fields(args)...)
		var flagErr *cmdutil.FlagError
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("add %s: err = %v, want %q", args, err, want)
		} else if !errors.As(err, &flagErr) {
			t.Errorf("add %s: %v is not a usage error", args, err)
		}
	}
}

// The run function maps the flags onto the module: no kind flag means both.
func TestRunWritesTheModule(t *testing.T) {
	ctx, err := project.Generate(project.Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "demo")
	if err := state.Commit(ctx.Files, dir, false); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	if err := moduleRun(&ModuleOptions{IO: ios, Dir: dir, Name: "shop"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Added module shop: a page at /shop/ and a JSON API at /api/shop.") {
		t.Errorf("output:\n%s", out)
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Modules) != 1 || m.Modules[0] != (state.Module{Name: "shop", API: true, Page: true}) {
		t.Errorf("scaffold.yaml modules = %+v", m.Modules)
	}
}
