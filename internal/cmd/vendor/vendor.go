// Package vendor implements `scaffold vendor`.
package vendor

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/project"
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
	res, err := project.Vendor(dir, version, opts.Force, opts.DryRun)
	if err != nil {
		return err
	}
	Report(opts.IO.Out, res)
	return nil
}

// Report prints what project.Vendor did (scaffold vendor, scaffold update --runtime).
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
		fmt.Fprintf(out, "conflict: kept your %s, scaffold's new version in %s%s\n", name, name, generators.ConflictSuffix)
	}
	if len(res.Conflicts) > 0 {
		fmt.Fprintf(out, "%d conflict(s): merge each FILE%s into FILE, then delete the %s files (or run again with --force to take scaffold's).\n", len(res.Conflicts), generators.ConflictSuffix, generators.ConflictSuffix)
	}
}
