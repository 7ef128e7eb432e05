package pipeline

import (
	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/packaging"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// NewRun is `scaffold new`: the answers and the folder, then what the steps made.
type NewRun struct {
	Options project.Options
	Target  string // a missing or empty folder, or with Force an existing project
	Force   bool   // write into a folder that is not empty: only scaffold's files are rewritten
	DryRun  bool   // plan, write nothing

	Project *project.Context // the render, with its bases and package units
	Changes []state.Change   // what writing each file of Project.Files does, in its order
}

// NewSteps are `scaffold new`'s pipeline.
func NewSteps() []generators.Step[*NewRun] {
	return []generators.Step[*NewRun]{
		// The project from the answers. Over an existing project (--force), the record of
		// what deploy-config wrote there stays, and so does its edit protection.
		step("render", func(r *NewRun) error {
			gen, err := project.Generate(r.Options)
			if err != nil {
				return err
			}
			if old, err := state.LoadManifest(r.Target); err == nil {
				gen.Manifest.KeepDerived(old)
			}
			r.Project = gen
			return nil
		}),
		// The base of each file, for the three-way merge of the first `scaffold update`.
		step("bases", func(r *NewRun) error { r.Project.AddBases(r.Project.Files); return nil }),
		// The units the .deb and .rpm install, derived from the rendered config/, so the
		// first tag releases: make package-units' files, recorded as deploy-config's.
		step("package units", func(r *NewRun) error {
			_, err := packaging.Units(r.Project.Files, &r.Project.Manifest, r.Project.Files.FS(), r.Target)
			return err
		}),
		// What writing each file does (create, overwrite, unchanged): the dry run's report.
		step("plan", func(r *NewRun) error {
			var err error
			r.Changes, err = state.Plan(r.Project.Files, r.Target)
			return err
		}),
		// One atomic commit: a new folder appears whole, an existing one gets every file or none.
		step("commit", func(r *NewRun) error {
			if err := skipWhen(r.DryRun); err != nil {
				return err
			}
			return state.Commit(r.Project.Files, r.Target, r.Force)
		}),
	}
}

// New runs `scaffold new`'s pipeline.
func New(r *NewRun) error { return generators.Run(r, NewSteps()) }
