// Package version implements `scaffold version`.
package version

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/internal/build"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
)

// NewCmdVersion prints the version goreleaser injected ("dev" for a plain build).
func NewCmdVersion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print scaffold's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, commit, date := build.Info()
			out := fmt.Sprintf("scaffold %s", v)
			if commit != "" {
				out += " (" + shortCommit(commit)
				if date != "" {
					out += ", " + date
				}
				out += ")"
			}
			_, err := fmt.Fprintln(f.IOStreams.Out, out)
			return err
		},
	}
}

func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}
