package pipeline

import (
	"os/exec"
	"strings"

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
	Git     GitInit          // what the git step did
}

// GitInit is what new's last step did about version control.
type GitInit struct {
	Initialized bool   // `git init` made the project a repository
	Failed      error  // git init failed: said, and no error (the project is written)
	Output      string // git's output when it failed
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
		// The project a git repository (the Makefile's VERSION comes from `git describe`)
		// when git is installed and the folder is not inside one already (a monorepo keeps
		// its own). Nothing is committed; a failure is reported and is no error.
		step("git init", func(r *NewRun) error {
			if err := skipWhen(r.DryRun); err != nil {
				return err
			}
			r.Git = gitInit(r.Target)
			return nil
		}),
	}
}

// gitInit runs `git init` in target unless git is missing or target is inside a work tree.
func gitInit(target string) GitInit {
	git, err := exec.LookPath("git")
	if err != nil {
		return GitInit{}
	}
	inside := exec.Command(git, "rev-parse", "--is-inside-work-tree")
	inside.Dir = target
	if out, err := inside.Output(); err == nil && strings.TrimSpace(string(out)) == "true" {
		return GitInit{}
	}
	if out, err := exec.Command(git, "init", "--quiet", target).CombinedOutput(); err != nil {
		return GitInit{Failed: err, Output: strings.TrimSpace(string(out))}
	}
	return GitInit{Initialized: true}
}

// New runs `scaffold new`'s pipeline.
func New(r *NewRun) error { return generators.Run(r, NewSteps()) }
