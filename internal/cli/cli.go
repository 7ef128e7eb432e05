// Package cli assembles scaffold's commands and turns their errors into exit codes.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/internal/build"
	addcmd "github.com/scaffoldgo/scaffold/internal/cmd/add"
	"github.com/scaffoldgo/scaffold/internal/cmd/deployconfig"
	newcmd "github.com/scaffoldgo/scaffold/internal/cmd/new"
	removecmd "github.com/scaffoldgo/scaffold/internal/cmd/remove"
	runcmd "github.com/scaffoldgo/scaffold/internal/cmd/run"
	updatecmd "github.com/scaffoldgo/scaffold/internal/cmd/update"
	vendorcmd "github.com/scaffoldgo/scaffold/internal/cmd/vendor"
	"github.com/scaffoldgo/scaffold/internal/cmd/version"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Exit codes.
const (
	ExitOK     = 0
	ExitError  = 1
	ExitUsage  = 2
	ExitCancel = 130
)

// Main runs scaffold with os.Args and returns the process exit code.
func Main() int {
	f := &cmdutil.Factory{IOStreams: iostreams.System()}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Execute(ctx, f, os.Args[1:])
}

// Execute runs the command line args against f and returns the exit code; tests call it
// in-process.
func Execute(ctx context.Context, f *cmdutil.Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	errOut := f.IOStreams.ErrOut
	var flagErr *cmdutil.FlagError
	switch {
	case errors.Is(err, cmdutil.ErrSilent):
		return ExitError
	case errors.Is(err, cmdutil.ErrCancel):
		fmt.Fprintln(errOut, "scaffold: cancelled")
		return ExitCancel
	case errors.As(err, &flagErr) || isCobraUsageError(err):
		// The error, the command's usage line and where the rest is, as go's commands do;
		// the whole flag list would bury the one line that matters.
		fmt.Fprintf(errOut, "scaffold: %v\n", err)
		if cmd != nil {
			fmt.Fprintf(errOut, "Usage: %s\nRun '%s --help' for its flags and examples.\n", cmd.UseLine(), cmd.CommandPath())
		}
		return ExitUsage
	default:
		fmt.Fprintf(errOut, "scaffold: %v\n", err)
		return ExitError
	}
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	v, _, _ := build.Info()
	root := &cobra.Command{
		Use:   "scaffold <command>",
		Short: "Go web services in the Flask + Gunicorn production recipe",
		Long: `scaffold generates a Go web service in a documented layout (config, factory, web,
a development entry and a prefork production entry), the nginx, supervisor, systemd and
logrotate files that run it, and a dev loop that rebuilds on every save.`,
		Example: `  scaffold new shop-api --yes
  cd shop-api && make run
  scaffold deploy-config all --domain shop.example.com`,
		Version:       v,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetVersionTemplate("scaffold {{.Version}}\n")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cmdutil.FlagError{Err: err}
	})
	for _, add := range commands {
		root.AddCommand(add(f))
	}
	return root
}

// commands lists every subcommand constructor; `completion` and `help` come from cobra.
var commands = []func(*cmdutil.Factory) *cobra.Command{
	func(f *cmdutil.Factory) *cobra.Command { return newcmd.NewCmdNew(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return addcmd.NewCmdAdd(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return removecmd.NewCmdRemove(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return vendorcmd.NewCmdVendor(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return updatecmd.NewCmdUpdate(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return version.NewCmdVersion(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return deployconfig.NewCmdDeployConfig(f, nil) },
	func(f *cmdutil.Factory) *cobra.Command { return runcmd.NewCmdRun(f, nil) },
}

// isCobraUsageError recognises cobra's argument-count errors, which it returns unwrapped.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "requires at most", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
