package project

import (
	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// The commands run this package's plans through generators/pipeline, which imports it;
// its tests run each plan and then the same commit (state.Commit, then Tidy), without the
// package units.

func commit(dir string, set *generators.FileSet, dryRun bool, emptied ...string) error {
	if dryRun {
		return nil
	}
	if err := state.Commit(set, dir, true); err != nil {
		return err
	}
	Tidy(dir, emptied...)
	return nil
}

func Update(dir, version string, dryRun bool) (*UpdateResult, error) {
	res, set, err := PlanUpdate(dir, version)
	if err != nil {
		return nil, err
	}
	return res, commit(dir, set, dryRun)
}

func Vendor(dir, version string, force, dryRun bool) (*VendorResult, error) {
	res, set, err := PlanVendor(dir, version, force)
	if err != nil {
		return nil, err
	}
	res.DryRun = dryRun
	return res, commit(dir, set, dryRun)
}

func AddModule(dir string, m state.Module, dryRun bool) (*AddResult, error) {
	res, set, err := PlanAddModule(dir, m)
	if err != nil {
		return nil, err
	}
	return res, commit(dir, set, dryRun)
}

func RemoveModule(dir, name string, dryRun bool) (*RemoveResult, error) {
	res, set, err := PlanRemoveModule(dir, name)
	if err != nil {
		return nil, err
	}
	return res, commit(dir, set, dryRun, res.Emptied...)
}
