// Package run implements `scaffold run` and `scaffold run --dev`.
package run

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/devrun"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Options are `scaffold run`'s parsed flags and dependencies.
type Options struct {
	IO  *iostreams.IOStreams
	Ctx context.Context

	Dev          bool
	Bind         string
	Dir          string
	Debounce     time.Duration
	Poll         time.Duration
	Grace        time.Duration
	ReadyTimeout time.Duration
	BuildFlags   string   // --dev builds' go build flags, split like a shell
	buildFlags   []string // BuildFlags split, by RunE
	Args         []string // after --, for the app
}

// NewCmdRun builds the command; runF replaces the run function in tests.
func NewCmdRun(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "run [--dev] [flags] [-- APP-FLAGS...]",
		Short: "Run the project: rebuilt on every save (--dev), or the production entry",
		Long: `With --dev, build the development entry (./run), serve it on the address and rebuild
it on every save of a .go file, go.mod/go.sum, config/*.yaml or a template. scaffold holds
the listening socket itself and hands it to each new build, which takes over once it reports
ready, so no request is refused while you edit. A failed build leaves the previous one
serving and prints the compiler's errors; changes under the static directory need no
rebuild. Builds leave out DWARF debug information, which makes linking, most of an
incremental build, about a fifth faster (stack traces keep file:line); --build-flags ""
keeps it for a debugger. Ctrl-C stops the app and everything it started.

Without --dev, build the production entry (./wsgi) and run it in the foreground in
production mode (a prefork master and its workers), forwarding TERM, INT, HUP, QUIT, USR1,
USR2, TTIN and TTOU to it.

Arguments after -- go to the app (the entry's gunicorn-style flags).`,
		Example: `  scaffold run --dev
  scaffold run --dev -b 127.0.0.1:9000 --dir shop-api
  scaffold run --dev --poll 500ms        # file systems without inotify (some Docker/WSL mounts)
  scaffold run --dev --build-flags '-gcflags="all=-N -l"'   # for dlv attach
  scaffold run -- -w 4 --access-logfile -`,
		Args: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash < 0 && len(args) > 0 || dash > 0 {
				return cmdutil.FlagErrorf("run takes no arguments before --; got %q (put the app's flags after --)", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			opts.Ctx = cmd.Context()
			if !opts.Dev {
				for _, name := range []string{"debounce", "poll", "grace", "ready-timeout", "build-flags"} {
					if cmd.Flags().Changed(name) {
						return cmdutil.FlagErrorf("--%s applies to --dev only", name)
					}
				}
			}
			if opts.Debounce < 0 || opts.Poll < 0 || opts.Grace < 0 || opts.ReadyTimeout < 0 {
				return cmdutil.FlagErrorf("--debounce, --poll, --grace and --ready-timeout must not be negative")
			}
			if opts.Poll > 0 && opts.Poll < 10*time.Millisecond {
				return cmdutil.FlagErrorf("--poll %s: must be at least 10ms", opts.Poll)
			}
			var err error
			if opts.buildFlags, err = devrun.SplitFlags(opts.BuildFlags); err != nil {
				return cmdutil.FlagErrorf("--build-flags: %v", err)
			}
			if runF != nil {
				return runF(opts)
			}
			return runRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&opts.Dev, "dev", false, "development: rebuild and swap the app on every save")
	fl.StringVarP(&opts.Bind, "bind", "b", "", "`ADDR`ESS to listen on (host:port or unix:/path; default: the project's server.bind[0], else "+devrun.DefaultBind+")")
	fl.StringVar(&opts.Dir, "dir", ".", "project `DIR`ectory")
	fl.DurationVar(&opts.Debounce, "debounce", 50*time.Millisecond, "quiet period that ends a burst of saves")
	fl.DurationVar(&opts.Poll, "poll", 0, "poll files every `INTERVAL` instead of using inotify (0: inotify)")
	fl.DurationVar(&opts.Grace, "grace", 5*time.Second, "how long a replaced app may drain before it is killed")
	fl.DurationVar(&opts.ReadyTimeout, "ready-timeout", 30*time.Second, "how long a new build may take to report ready")
	fl.StringVar(&opts.BuildFlags, "build-flags", strings.Join(devrun.DefaultBuildFlags, " "),
		"`FLAGS` for each go build, quoted like a shell (the default drops DWARF to link faster; \"\" keeps it for a debugger)")
	return cmd
}

func runRun(opts *Options) error {
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	io := opts.IO
	// Outside a project (no scaffold.yaml above) the folder is taken as given: the runner
	// says when it holds no entry to build.
	if dir, err := cmdutil.ProjectDir(io, opts.Dir); err == nil {
		opts.Dir = dir
	}
	if opts.Dev {
		return devrun.Run(ctx, devrun.Options{
			BuildFlags:   opts.buildFlags,
			Dir:          opts.Dir,
			Bind:         opts.Bind,
			Debounce:     opts.Debounce,
			Poll:         opts.Poll,
			Grace:        opts.Grace,
			ReadyTimeout: opts.ReadyTimeout,
			Args:         opts.Args,
			Stdout:       io.Out,
			Stderr:       io.ErrOut,
			Color:        io.ColorEnabled(),
		})
	}
	args := opts.Args
	if opts.Bind != "" {
		args = append([]string{"-b", opts.Bind}, args...)
	}
	code, err := devrun.RunProduction(ctx, devrun.ProductionOptions{
		Dir:    opts.Dir,
		Args:   args,
		Stdin:  io.In,
		Stdout: io.Out,
		Stderr: io.ErrOut,
		Color:  io.ColorEnabled(),
	})
	if err != nil {
		return err
	}
	if code != 0 {
		fmt.Fprintf(io.ErrOut, "scaffold run: the app exited with status %d\n", code)
		return cmdutil.ErrSilent
	}
	return nil
}
