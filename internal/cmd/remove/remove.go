// Package remove implements `scaffold remove`, which takes a part out of a generated project.
package remove

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// ModuleOptions are `scaffold remove module`'s parsed flags and dependencies.
type ModuleOptions struct {
	IO     *iostreams.IOStreams
	Dir    string
	Name   string
	DryRun bool
}

// NewCmdRemove builds `scaffold remove`; runF replaces the module command's run function in tests.
func NewCmdRemove(f *cmdutil.Factory, runF func(*ModuleOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "remove <kind>",
		Short: "Take a part out of the project (a module)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdModule(f, runF))
	return cmd
}

// NewCmdModule builds `scaffold remove module`; runF replaces the run function in tests.
func NewCmdModule(f *cmdutil.Factory, runF func(*ModuleOptions) error) *cobra.Command {
	opts := &ModuleOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "module NAME",
		Short: "Remove web/NAME/, its registration, its config section and its record, in one step",
		Long: `Delete web/NAME/ (every file in it, yours included: commit first), regenerate
web/modules.go and factory/modules.go without it, cut its modules.NAME section out of
config/config.yaml (keeping your other edits), and drop it from scaffold.yaml, all in one
atomic step. The sample module home can go too: scaffold.yaml then records web/home under
removed:, and ` + "`scaffold update`" + ` never writes it again (the tests that request its page
at /, in web/app_test.go and test/, are yours to adapt). A module folder you deleted by
hand is dropped from the record the same way by the next update or add.`,
		Example: `  scaffold remove module orders
  scaffold remove module home --dry-run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.FlagErrorf("remove module needs exactly one NAME, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if runF != nil {
				return runF(opts)
			}
			return moduleRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Dir, "dir", ".", "project folder (holding scaffold.yaml), or a folder inside it")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "list the files that would change; write nothing")
	return cmd
}

func moduleRun(opts *ModuleOptions) error {
	dir, err := cmdutil.ProjectDir(opts.IO, opts.Dir)
	if err != nil {
		return err
	}
	run := &pipeline.RemoveModuleRun{Dir: dir, Name: opts.Name, DryRun: opts.DryRun}
	if err := pipeline.RemoveModule(run); err != nil {
		return err
	}
	res := run.Result
	out := opts.IO.Out
	for _, d := range res.Dropped {
		fmt.Fprintf(out, "removed by you: %s/ (dropped from %s)\n", d, state.ManifestFile)
	}
	for _, c := range res.Changes {
		fmt.Fprintf(out, "%-9s %s\n", c.Change, filepath.Join(dir, filepath.FromSlash(c.Path)))
	}
	if opts.DryRun {
		fmt.Fprintf(opts.IO.ErrOut, "Dry run: %d files; nothing was written.\n", len(res.Changes))
		return nil
	}
	if res.ConfigEdited {
		fmt.Fprintf(out, "config/config.yaml had your edits: the modules.%s section was cut out and the rest kept.\n", res.Name)
	}
	fmt.Fprintf(out, "Removed module %s.\n", res.Name)
	return nil
}
