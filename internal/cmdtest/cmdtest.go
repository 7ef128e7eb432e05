// Package cmdtest runs a command's flag parsing in tests through its runF hook, the
// seam every command constructor has (STYLE.md: the GitHub CLI's model), so a test sees
// the Options the run function would get without running it.
package cmdtest

import (
	"bytes"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Parse builds the command with test streams, runs it on args with the run function
// replaced, and returns the Options it was given (nil when it did not get that far), the
// streams, and the error. Flag errors are cmdutil.FlagErrors, as under the root command.
func Parse[O any](newCmd func(*cmdutil.Factory, func(*O) error) *cobra.Command, args ...string) (*O, *iostreams.IOStreams, error) {
	ios, _, _, _ := iostreams.Test()
	var got *O
	cmd := newCmd(&cmdutil.Factory{IOStreams: ios}, func(o *O) error { got = o; return nil })
	cmd.SetArgs(args)
	cmd.SetOut(&bytes.Buffer{})
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &cmdutil.FlagError{Err: err} })
	err := cmd.Execute()
	return got, ios, err
}
