// Package version implements `scaffold version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/internal/build"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Options are `scaffold version`'s dependencies.
type Options struct {
	IO *iostreams.IOStreams
	// Info returns the version, commit and date (build.Info; tests give their own).
	Info func() (version, commit, date string)
}

// NewCmdVersion prints the version goreleaser injected, or what Go recorded (build.Info); runF
// replaces the run function in tests.
func NewCmdVersion(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams, Info: build.Info}
	return &cobra.Command{
		Use:   "version",
		Short: "Print scaffold's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return versionRun(opts)
		},
	}
}

func versionRun(opts *Options) error {
	v, commit, date := opts.Info()
	out := fmt.Sprintf("scaffold %s", v)
	if commit != "" {
		out += " (" + shortCommit(commit)
		if date != "" {
			out += ", " + date
		}
		out += ")"
	}
	_, err := fmt.Fprintln(opts.IO.Out, out)
	return err
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
