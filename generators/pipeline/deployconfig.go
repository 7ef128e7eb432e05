package pipeline

import (
	"context"
	"fmt"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/deploy"
)

// DeployConfigRun is `scaffold deploy-config`: the project folder (found by walking up)
// and the options, --out among them, then what the steps made.
type DeployConfigRun struct {
	Ctx     context.Context // bounds the --check tools
	Dir     string
	Options deploy.Options
	Check   bool // run nginx -t and systemd-analyze before writing
	Force   bool // overwrite files edited since scaffold wrote them
	DryRun  bool

	Out       deploy.Output // --out, resolved once against Dir
	Generated *deploy.Context
	Passed    []string // checks that passed (Check)
	Skipped   []string // checks whose tool is missing
	Plan      []deploy.Planned
}

// DeployConfigSteps are `scaffold deploy-config`'s pipeline.
func DeployConfigSteps() []generators.Step[*DeployConfigRun] {
	return []generators.Step[*DeployConfigRun]{
		// --out resolved once, against the project folder: every later step writes,
		// records and reports through it.
		step("locate", func(r *DeployConfigRun) error {
			var err error
			r.Out, err = deploy.Locate(r.Dir, r.Options.Out)
			return err
		}),
		// The files, derived from the project's config/ (production mode).
		step("generate", func(r *DeployConfigRun) error {
			var err error
			r.Generated, err = deploy.Generate(r.Dir, r.Options)
			return err
		}),
		// nginx -t and systemd-analyze where installed (--check): a failure writes nothing.
		step("check", func(r *DeployConfigRun) error {
			if !r.Check {
				return generators.ErrSkip
			}
			var err error
			r.Passed, r.Skipped, err = r.Generated.Check(r.Ctx)
			if err != nil {
				return fmt.Errorf("check failed, nothing written:\n%w", err)
			}
			return nil
		}),
		// Each file against --out and scaffold.yaml's record of what deploy-config wrote.
		step("plan", func(r *DeployConfigRun) error {
			var err error
			r.Plan, err = r.Generated.Plan(r.Out)
			return err
		}),
		// The files and their record in one atomic step; an edited file refuses it unless --force.
		step("commit", func(r *DeployConfigRun) error {
			if err := skipWhen(r.DryRun); err != nil {
				return err
			}
			return deploy.Write(r.Dir, r.Out, r.Plan, r.Force)
		}),
	}
}

// DeployConfig runs `scaffold deploy-config`'s pipeline.
func DeployConfig(r *DeployConfigRun) error { return generators.Run(r, DeployConfigSteps()) }
