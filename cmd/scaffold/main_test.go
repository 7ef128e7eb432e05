package main

import (
	"os"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/scaffoldgo/scaffold/internal/cli"
)

// TestMain lets the test binary act as the real scaffold binary inside scripts (and for
// the pseudo-terminal test), without a separate build.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"scaffold": func() { os.Exit(cli.Main()) },
	})
}

// TestScripts runs testdata/script/*.txtar against the real command line.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "../../testdata/script",
		RequireExplicitExec: false,
		Setup: func(env *testscript.Env) error {
			env.Setenv("SCAFFOLD_NO_PROMPT", "1")
			return nil
		},
	})
}
