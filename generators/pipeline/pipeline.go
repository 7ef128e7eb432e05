// Package pipeline is the one pipeline behind each command that writes a project (scaffold
// new, update, vendor, add module, remove module, deploy-config), goreleaser's shape: an
// ordered list of named steps over one context, each with a line saying why it is there,
// ending in plan and commit. A command parses its flags, runs its pipeline and prints what
// the context holds after it; the steps come from the generators (project, packaging,
// deploy) and the file-state model (generators/state), which alone writes.
package pipeline

import (
	"fmt"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// step names a step of a pipeline over C.
func step[C any](name string, fn func(C) error) generators.Step[C] {
	return generators.StepFunc[C]{Name: name, Fn: fn}
}

// into is a commit into the project folder: the set, whether the run is dry, and the
// folders the commit empties (a removed module's), from the project folder.
type into struct {
	dir     string
	set     *generators.FileSet
	dryRun  bool
	emptied []string
}

// commitStep is the last step of each pipeline that writes into the project folder: the
// set in one atomic commit (state.Commit), then the folders it left empty taken away (the
// emptied ones and the merge bases'); a dry run skips it.
func commitStep[C any](of func(C) into) generators.Step[C] {
	return step("commit", func(c C) error {
		in := of(c)
		if in.dryRun {
			return generators.ErrSkip
		}
		if err := state.Commit(in.set, in.dir, true); err != nil {
			return fmt.Errorf("writing into %s: %w (nothing was changed)", in.dir, err)
		}
		project.Tidy(in.dir, in.emptied...)
		return nil
	})
}

// skipWhen is ErrSkip when dry: a dry run plans and writes nothing.
func skipWhen(dry bool) error {
	if dry {
		return generators.ErrSkip
	}
	return nil
}
