// Package vendor implements `scaffold vendor`.
package vendor

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/internal/build"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Options are `scaffold vendor`'s flags and dependencies.
type Options struct {
	IO    *iostreams.IOStreams
	Dir   string
	Force bool
}

// NewCmdVendor builds the command; runF replaces the run function in tests.
func NewCmdVendor(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "vendor",
		Short: "Upgrade the project's vendored prefork runtime to this scaffold's",
		Long: `Rewrite internal/prefork with the runtime built into this scaffold binary and record
its version and checksum in scaffold.yaml. A runtime that was edited since scaffold wrote
it is refused unless --force, so local changes are never lost silently.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return vendorRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "project folder (holding scaffold.yaml)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "overwrite a runtime that was edited locally")
	return cmd
}

func vendorRun(opts *Options) error {
	version, _, _ := build.Info()
	res, err := project.Vendor(opts.Dir, version, opts.Force)
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "Vendored the prefork runtime %s (was %s): %d files written", res.To, res.From, len(res.Written))
	if len(res.Removed) > 0 {
		fmt.Fprintf(opts.IO.Out, ", %d removed (%v)", len(res.Removed), res.Removed)
	}
	fmt.Fprintln(opts.IO.Out, ".")
	for _, name := range res.Kept {
		fmt.Fprintf(opts.IO.Out, "kept %s (not scaffold's)\n", name)
	}
	return nil
}
