package remove

import (
	"errors"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/cmdtest"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

func parse(t *testing.T, args ...string) (*ModuleOptions, error) {
	t.Helper()
	o, _, err := cmdtest.Parse(NewCmdRemove, args...)
	return o, err
}

func TestFlags(t *testing.T) {
	o, err := parse(t, "module", "wiki", "--dry-run", "--dir", "x")
	if err != nil || o.Name != "wiki" || !o.DryRun || o.Dir != "x" {
		t.Fatalf("options %+v, %v", o, err)
	}
	for _, args := range []string{"module", "module a b"} {
		_, err := parse(t, strings.Fields(args)...)
		var flagErr *cmdutil.FlagError
		if !errors.As(err, &flagErr) || !strings.Contains(err.Error(), "remove module needs exactly one NAME") {
			t.Errorf("remove %s: %v, want a usage error", args, err)
		}
	}
}

func TestOutsideProject(t *testing.T) {
	ios, _, out, _ := iostreams.Test()
	err := moduleRun(&ModuleOptions{IO: ios, Dir: t.TempDir(), Name: "wiki"})
	if err == nil || !strings.Contains(err.Error(), "no scaffold.yaml in ") || out.Len() != 0 {
		t.Errorf("err = %v, output %q", err, out)
	}
}
