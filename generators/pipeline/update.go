package pipeline

import (
	"os"
	"sort"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/packaging"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// UpdateRun is `scaffold update`: the project folder and this scaffold's version, then
// what the update does and the one set it commits.
type UpdateRun struct {
	Dir     string
	Version string
	DryRun  bool

	Result *project.UpdateResult
	Files  *generators.FileSet // the project's files, bases, package units and scaffold.yaml
}

// UpdateSteps are `scaffold update`'s pipeline.
func UpdateSteps() []generators.Step[*UpdateRun] {
	return []generators.Step[*UpdateRun]{
		// Re-render from scaffold.yaml's answers and plan every file against the record and
		// its base: updates, merges, conflicts, removals by the user, orphans.
		step("plan project", func(r *UpdateRun) error {
			var err error
			r.Result, r.Files, err = project.PlanUpdate(r.Dir, r.Version)
			return err
		}),
		// The package units, derived from config/ as the update leaves it and planned
		// against deploy-config's record, into the same commit.
		step("plan package units", func(r *UpdateRun) error {
			m, err := state.ReadManifest(r.Files.FS(), r.Dir)
			if err != nil {
				return err
			}
			entries, err := packaging.Units(r.Files, m, r.Files.Overlay(os.DirFS(r.Dir)), r.Dir)
			if err != nil {
				return err
			}
			for _, e := range entries {
				switch e.Action {
				case state.Conflict:
					r.Result.Conflicts++
				case state.Unresolved:
					r.Result.Unresolved++
				}
			}
			r.Result.Entries = append(r.Result.Entries, entries...)
			sort.Slice(r.Result.Entries, func(i, j int) bool { return r.Result.Entries[i].Path < r.Result.Entries[j].Path })
			return nil
		}),
		// One atomic commit of it all; a failure part-way leaves the project as it was.
		commitStep(func(r *UpdateRun) into { return into{dir: r.Dir, set: r.Files, dryRun: r.DryRun} }),
	}
}

// Update runs `scaffold update`'s pipeline.
func Update(r *UpdateRun) error { return generators.Run(r, UpdateSteps()) }
