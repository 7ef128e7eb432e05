package prefork

import "github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"

// CommandLine describes a program's Gunicorn-style command line for
// ParseArgs (internal/settings parses it).
type CommandLine = settings.CommandLine

// Flag is a flag a program adds to the runtime's settings.
type Flag = settings.Flag

// UsageError is a bad command line: the message names the flag, the value
// and the rule. Programs print it after their name and exit with status 2
// (ExitCode), as argparse does.
type UsageError = settings.UsageError

// ExitCode is the exit status for err returned by a program's run: 0 for
// nil and for help or version shown (flag.ErrHelp), 2 for a UsageError, 1
// for anything else.
func ExitCode(err error) int { return settings.ExitCode(err) }

// EnvCmdArgs is the environment variable read as extra command-line
// arguments, as Gunicorn reads it (split like a POSIX shell).
const EnvCmdArgs = settings.EnvCmdArgs

// ParseArgs applies a Gunicorn command line to c: first $GUNICORN_CMD_ARGS
// (split as a shell would: quotes and backslashes), then args, so flags on
// the command line win, and a repeatable flag given on the command line
// replaces the environment's list. The values in c (config.yaml's) are
// the base. -h/--help and -v/--version print to cl.Stdout and return
// flag.ErrHelp. Long flags take two dashes and are never abbreviated; a
// short flag takes its value attached or next (-w4, -w 4), a long one
// after "=" or next. One positional APP_MODULE (Gunicorn's module:app) is
// accepted and reported as having no effect. The Parsed returned (never nil)
// says which settings were given and holds the notes for Run. Errors are
// *UsageError.
func (c *Config) ParseArgs(cl CommandLine, args []string) (*Parsed, error) {
	builtin := make([]string, len(controlSubcommands))
	for i, s := range controlSubcommands {
		builtin[i] = s.name
	}
	return settings.ParseArgs(&c.Values, cl, args, func() { c.writeHelp(cl) }, builtin)
}
