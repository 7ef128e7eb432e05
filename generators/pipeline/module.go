package pipeline

import (
	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// AddModuleRun is `scaffold add module`: the project folder and the module, then what
// adding it writes.
type AddModuleRun struct {
	Dir    string
	Module state.Module
	DryRun bool

	Result *project.AddResult
	Files  *generators.FileSet
}

// AddModuleSteps are `scaffold add module`'s pipeline.
func AddModuleSteps() []generators.Step[*AddModuleRun] {
	return []generators.Step[*AddModuleRun]{
		// web/NAME/, the regenerated registrations, its config section and its record,
		// planned against the project (an edited scaffold-owned file refuses it).
		step("plan", func(r *AddModuleRun) error {
			var err error
			r.Result, r.Files, err = project.PlanAddModule(r.Dir, r.Module)
			return err
		}),
		// One atomic commit.
		commitStep(func(r *AddModuleRun) into { return into{dir: r.Dir, set: r.Files, dryRun: r.DryRun} }),
	}
}

// AddModule runs `scaffold add module`'s pipeline.
func AddModule(r *AddModuleRun) error { return generators.Run(r, AddModuleSteps()) }

// RemoveModuleRun is `scaffold remove module`: the project folder and the module's name,
// then what removing it does.
type RemoveModuleRun struct {
	Dir    string
	Name   string
	DryRun bool

	Result *project.RemoveResult
	Files  *generators.FileSet
}

// RemoveModuleSteps are `scaffold remove module`'s pipeline.
func RemoveModuleSteps() []generators.Step[*RemoveModuleRun] {
	return []generators.Step[*RemoveModuleRun]{
		// The module's files, registrations, config section and record, planned out.
		step("plan", func(r *RemoveModuleRun) error {
			var err error
			r.Result, r.Files, err = project.PlanRemoveModule(r.Dir, r.Name)
			return err
		}),
		// One atomic commit, then the module's emptied folders taken away.
		commitStep(func(r *RemoveModuleRun) into {
			return into{dir: r.Dir, set: r.Files, dryRun: r.DryRun, emptied: r.Result.Emptied}
		}),
	}
}

// RemoveModule runs `scaffold remove module`'s pipeline.
func RemoveModule(r *RemoveModuleRun) error { return generators.Run(r, RemoveModuleSteps()) }
