package pipeline

import (
	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/project"
)

// VendorRun is `scaffold vendor` (and `scaffold update --runtime`): the project folder and
// this scaffold's version, then what vendoring does.
type VendorRun struct {
	Dir     string
	Version string
	Force   bool // overwrite the user's edits of the vendored files
	DryRun  bool

	Result *project.VendorResult
	Files  *generators.FileSet
}

// VendorSteps are `scaffold vendor`'s pipeline.
func VendorSteps() []generators.Step[*VendorRun] {
	return []generators.Step[*VendorRun]{
		// This scaffold's runtime and configuration engine planned against the record:
		// update's rule, update's orphan rule, open conflicts listed and left alone.
		step("plan", func(r *VendorRun) error {
			var err error
			r.Result, r.Files, err = project.PlanVendor(r.Dir, r.Version, r.Force)
			if r.Result != nil {
				r.Result.DryRun = r.DryRun
			}
			return err
		}),
		// One atomic commit: a failure part-way leaves the old runtime whole.
		commitStep(func(r *VendorRun) into { return into{dir: r.Dir, set: r.Files, dryRun: r.DryRun} }),
	}
}

// Vendor runs `scaffold vendor`'s pipeline.
func Vendor(r *VendorRun) error { return generators.Run(r, VendorSteps()) }
