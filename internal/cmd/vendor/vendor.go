// Package vendor implements `scaffold vendor`.
package vendor

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/build"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Options are `scaffold vendor`'s flags and dependencies.
type Options struct {
	IO     *iostreams.IOStreams
	Dir    string
	Force  bool
	DryRun bool
}

// NewCmdVendor builds the command; runF replaces the run function in tests.
func NewCmdVendor(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "vendor",
		Short: "Upgrade the project's vendored prefork runtime to this scaffold's (scaffold update --runtime)",
		Long: `Bring internal/prefork (and internal/appconfig, the configuration engine, when the project
has it) to the copies built into this scaffold binary: scaffold update limited to the
runtime, with update's rule. A file you did not edit is replaced; a file
you edited is kept, and when the runtime changed it too, scaffold's new version is
written beside it as FILE.scaffold-new for you to merge (--force overwrites your edits
instead). Files you added to the package stay. scaffold.yaml records the new version and
checksums, all in one atomic step: a failure part-way leaves the old runtime whole.
--dry-run says what would change and writes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return vendorRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "project folder (holding scaffold.yaml)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite runtime files that were edited locally")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change and write nothing")
	return cmd
}

func vendorRun(opts *Options) error {
	dir, err := cmdutil.ProjectDir(opts.IO, opts.Dir)
	if err != nil {
		return err
	}
	version, _, _ := build.Info()
	run := &pipeline.VendorRun{Dir: dir, Version: version, Force: opts.Force, DryRun: opts.DryRun}
	if err := pipeline.Vendor(run); err != nil {
		return err
	}
	Report(opts.IO.Out, run.Result)
	return nil
}

// Report prints what the vendor pipeline did (scaffold vendor, scaffold update --runtime).
func Report(out io.Writer, res *project.VendorResult) {
	if res.DryRun {
		fmt.Fprintf(out, "Dry run, nothing written: would vendor the prefork runtime %s (was %s): %d files to write", res.To, res.From, len(res.Written))
	} else {
		fmt.Fprintf(out, "Vendored the prefork runtime %s (was %s): %d files written", res.To, res.From, len(res.Written))
	}
	if len(res.Removed) > 0 {
		fmt.Fprintf(out, ", %d removed (%v)", len(res.Removed), res.Removed)
	}
	fmt.Fprintln(out, ".")
	if res.DryRun {
		for _, p := range res.Written {
			fmt.Fprintf(out, "write: %s\n", p)
		}
	}
	for _, name := range res.Kept {
		fmt.Fprintf(out, "kept %s (not scaffold's)\n", name)
	}
	for _, name := range res.Edited {
		fmt.Fprintf(out, "kept (edited by you): %s\n", name)
	}
	for _, name := range res.SetAside {
		fmt.Fprintf(out, "set aside: %s, not in this runtime and edited by you, renamed %s%s (not compiled)\n", name, name, project.OldSuffix)
	}
	for _, name := range res.Conflicts {
		fmt.Fprintf(out, "conflict: kept your %s, scaffold's new version in %s%s\n", name, name, state.ConflictSuffix)
	}
	for _, name := range res.Unresolved {
		fmt.Fprintln(out, UnresolvedLine(name, false))
	}
	if n := len(res.Conflicts) + len(res.Unresolved); n > 0 {
		fmt.Fprintf(out, "%d conflict(s): merge each FILE%s into FILE, then delete the %s files (or run again with --force to take scaffold's); every run lists them until then.\n", n, state.ConflictSuffix, state.ConflictSuffix)
	}
}

// UnresolvedLine reports p, whose conflict from an earlier run is still open: conflict
// markers in it, or its FILE.scaffold-new beside it (scaffold update and vendor say it alike).
func UnresolvedLine(p string, markers bool) string {
	if markers {
		return fmt.Sprintf("unresolved: %s still holds conflict markers; left as it is", p)
	}
	return fmt.Sprintf("unresolved: %s%s is still there: merge it into %s, then delete it; left as it is", p, state.ConflictSuffix, p)
}
