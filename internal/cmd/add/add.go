// Package add implements `scaffold add`, which grows a generated project.
package add

import (
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// ModuleOptions are `scaffold add module`'s parsed flags and dependencies.
type ModuleOptions struct {
	IO     *iostreams.IOStreams
	Dir    string
	Name   string
	API    bool
	Page   bool
	Config bool
	DryRun bool
}

// NewCmdAdd builds `scaffold add`; runF replaces the module command's run function in tests.
func NewCmdAdd(f *cmdutil.Factory, runF func(*ModuleOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "add <kind>",
		Short: "Add a part to the project (a module)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(NewCmdModule(f, runF))
	return cmd
}

// NewCmdModule builds `scaffold add module`; runF replaces the run function in tests.
func NewCmdModule(f *cmdutil.Factory, runF func(*ModuleOptions) error) *cobra.Command {
	opts := &ModuleOptions{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "module NAME",
		Short: "Add web/NAME/: an HTML page and a JSON API, with a test (Django's startapp)",
		Long: `Write web/NAME/ (handlers, routes, a test; a template for the page) and register it in
web/modules.go, which scaffold owns and regenerates, so web/app.go stays yours and
` + "`scaffold update`" + ` keeps the module. By default the module has both a page at /NAME/ and a
JSON API under /api/NAME; --api or --page keeps one. --config adds a typed section,
modules.NAME, to the configuration: web/NAME/config.go and config/config.yaml.

NAME is lowercase letters and digits, starting with a letter (a Go package name). An
existing web/NAME is never overwritten; every file is written in one step, or none.`,
		Example: `  scaffold add module orders --api --config
  scaffold add module blog --page
  scaffold add module shop --dry-run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.FlagErrorf("add module needs exactly one NAME, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Name = args[0]
			if opts.API && opts.Page {
				return cmdutil.FlagErrorf("--api and --page exclude each other; give neither for both a page and an API")
			}
			if runF != nil {
				return runF(opts)
			}
			return moduleRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Dir, "dir", ".", "project folder (holding scaffold.yaml)")
	fl.BoolVar(&opts.API, "api", false, "a JSON API only, under /api/NAME")
	fl.BoolVar(&opts.Page, "page", false, "an HTML page only, at /NAME/")
	fl.BoolVar(&opts.Config, "config", false, "a typed configuration section, modules.NAME in config/config.yaml")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "list the files that would be written; write nothing")
	return cmd
}

func moduleRun(opts *ModuleOptions) error {
	m := state.Module{Name: opts.Name, API: opts.API || !opts.Page, Page: opts.Page || !opts.API, Config: opts.Config}
	dir, err := cmdutil.ProjectDir(opts.IO, opts.Dir)
	if err != nil {
		return err
	}
	run := &pipeline.AddModuleRun{Dir: dir, Module: m, DryRun: opts.DryRun}
	if err := pipeline.AddModule(run); err != nil {
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
		fmt.Fprintf(out, "config/config.yaml had your edits: the modules.%s section was inserted and the rest kept.\n", m.Name)
	}
	fmt.Fprintf(out, "Added module %s: %s.\n", m.Name, routes(m))
	if res.Unregistered {
		fmt.Fprintln(opts.IO.ErrOut, "Warning: web/app.go does not call registerModules(mux, cfg, logger), so web/modules.go's modules are not served: merge web/app.go.scaffold-new (from `scaffold update`) or add the call.")
	}
	fmt.Fprintf(out, "Next: edit web/%s/%s.go; `make test` runs its test.\n", m.Name, m.Name)
	return nil
}

func routes(m state.Module) string {
	switch {
	case m.API && m.Page:
		return fmt.Sprintf("a page at /%s/ and a JSON API at /api/%s", m.Name, m.Name)
	case m.Page:
		return fmt.Sprintf("a page at /%s/", m.Name)
	default:
		return fmt.Sprintf("a JSON API at /api/%s", m.Name)
	}
}
