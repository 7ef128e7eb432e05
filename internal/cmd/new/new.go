// Package new implements `scaffold new`.
package new

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/build"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
	"github.com/scaffoldgo/scaffold/internal/prompter"
)

// Options are `scaffold new`'s parsed flags and dependencies.
type Options struct {
	IO       *iostreams.IOStreams
	Prompter prompter.Prompter
	Getwd    func() (string, error)
	// GitMaintainer is the default maintainer, from git's configuration ("" when unset).
	GitMaintainer func() string

	Arg     string // NAME or "."
	Module  string
	Port    int
	Workers int
	DB      string // none, sqlite or postgres
	// Maintainer is the packages' maintainer, "Name <email>"; default: git's user.name and
	// user.email, else project.PlaceholderMaintainer.
	Maintainer string
	Yes        bool
	Force      bool
	DryRun     bool

	// which flags were given, so prompts ask only for the rest
	moduleSet, portSet, workersSet, dbSet, maintainerSet bool
	askName                                              bool // no NAME argument: ask for it (on a terminal only)
}

// NewCmdNew builds the command; runF replaces the run function in tests.
func NewCmdNew(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{
		IO:       f.IOStreams,
		Prompter: &prompter.Huh{In: f.IOStreams.In, Out: f.IOStreams.Out, ErrOut: f.IOStreams.ErrOut},
		Getwd:    os.Getwd,

		GitMaintainer: gitMaintainer,
	}
	cmd := &cobra.Command{
		Use:   "new [NAME]",
		Short: "Create a Go service in the documented layout",
		Long: `Create a Go web service in the Flask + Gunicorn production layout: config/, factory/,
web/, a development entry (run/) and a prefork production entry (wsgi/), with tests, a
Makefile and a README. It builds, tests and serves at once, and needs no network.

NAME is lowercase letters, digits and hyphens, starting with a letter. "." generates into
the current folder, which must be empty, and takes the folder's name.

On a terminal, values no flag gave are asked for, NAME too; with --yes, or without a
terminal, NAME is required and the defaults are used for the rest.`,
		Example: `  scaffold new shop-api --yes
  scaffold new shop-api --module github.com/acme/shop-api --port 8080 --workers 4
  scaffold new shop-api --db postgres --yes
  scaffold new shop-api --maintainer "Ada Lovelace <ada@example.com>" --yes
  mkdir blog && cd blog && scaffold new .
  scaffold new shop-api --dry-run`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 || (len(args) == 0 && (opts.Yes || !opts.IO.CanPrompt())) {
				return cmdutil.FlagErrorf("new needs exactly one NAME (or . for the current folder), got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.askName = len(args) == 0
			if !opts.askName {
				opts.Arg = args[0]
			}
			opts.moduleSet = cmd.Flags().Changed("module")
			opts.portSet = cmd.Flags().Changed("port")
			opts.workersSet = cmd.Flags().Changed("workers")
			opts.dbSet = cmd.Flags().Changed("db")
			opts.maintainerSet = cmd.Flags().Changed("maintainer")
			if runF != nil {
				return runF(opts)
			}
			return newRun(opts)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Module, "module", "", "Go module path (default NAME)")
	fl.IntVar(&opts.Port, "port", project.DefaultPort, "development port, written to config/config.yaml")
	fl.IntVar(&opts.Workers, "workers", project.DefaultWorkers, "production worker processes")
	fl.StringVar(&opts.DB, "db", state.DatabaseNone, "database: none, sqlite (embedded, pure Go) or postgres (pgx); adds migrations and a sample module")
	fl.StringVar(&opts.Maintainer, "maintainer", "", `the packages' maintainer, "Name <email>" (default: git config user.name and user.email)`)
	fl.BoolVarP(&opts.Yes, "yes", "y", false, "use defaults for everything not given; never prompt")
	fl.BoolVar(&opts.Force, "force", false, "write into a non-empty folder, rewriting only scaffold's files (never deletes)")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "list the files that would be written; write nothing")
	return cmd
}

func newRun(opts *Options) error {
	if opts.askName {
		if err := askName(opts); err != nil {
			return err
		}
	}
	start := time.Now()
	name, target, err := resolveTarget(opts)
	if err != nil {
		return err
	}
	exists, empty, err := state.IsEmptyDir(target)
	if err != nil {
		return fmt.Errorf("cannot use %s: %w", target, err)
	}
	if exists && !empty && !opts.Force && !opts.DryRun {
		return fmt.Errorf("%s already exists and is not empty; choose another name, or use --force to rewrite only the files scaffold generates (nothing is deleted)", displayPath(opts, target))
	}
	if err := validateFlags(opts); err != nil {
		return err
	}
	if err := ask(opts, name); err != nil {
		return err
	}
	version, _, _ := build.Info()
	// The package units too, so the first tag releases (goreleaser packages packaging/).
	run := &pipeline.NewRun{Options: project.Options{Name: name, Module: opts.Module, Port: opts.Port, Workers: opts.Workers, Database: opts.DB, Maintainer: opts.Maintainer, Version: version},
		Target: target, Force: opts.Force, DryRun: opts.DryRun}
	err = pipeline.New(run)
	switch {
	case errors.Is(err, state.ErrNotEmpty):
		return fmt.Errorf("%s is not empty; use --force to rewrite only scaffold's files", displayPath(opts, target))
	case err != nil && run.Changes != nil:
		return fmt.Errorf("writing %s: %w (nothing was left behind)", displayPath(opts, target), err)
	case err != nil:
		return err
	}
	gen, files := run.Project, run.Project.Files
	if opts.DryRun {
		printPlan(opts, files, run.Changes, target)
		return nil
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "Created %s (module %s) in %s: %d files in %s.\n", name, gen.Options.Module, displayPath(opts, target), files.Len(), time.Since(start).Round(time.Millisecond))
	switch g := run.Git; {
	case g.Failed != nil:
		fmt.Fprintf(opts.IO.ErrOut, "git init %s failed (the project is written; run it yourself): %v %s\n", displayPath(opts, target), g.Failed, g.Output)
	case g.Initialized:
		fmt.Fprintf(out, "Initialized a git repository in %s (nothing committed).\n", displayPath(opts, target))
	}
	fmt.Fprintln(out)
	fmt.Fprintln(out, "Next:")
	if opts.Arg != "." {
		fmt.Fprintf(out, "  cd %s\n", displayPath(opts, target))
	}
	fmt.Fprintf(out, "  make run     # development server on http://127.0.0.1:%d\n", gen.Options.Port)
	fmt.Fprintln(out, "  make test    # vet + unit and integration tests")
	fmt.Fprintf(out, "  make serve   # production entry: prefork master + %d workers\n", gen.Options.Workers)
	return nil
}

// resolveTarget turns NAME or "." into the project name and its folder.
func resolveTarget(opts *Options) (name, target string, err error) {
	wd, err := opts.Getwd()
	if err != nil {
		return "", "", err
	}
	if opts.Arg == "." {
		name = filepath.Base(wd)
		if err := state.ValidateName(name); err != nil {
			return "", "", fmt.Errorf("the current folder's name cannot name the project: %w", err)
		}
		return name, wd, nil
	}
	if err := state.ValidateName(opts.Arg); err != nil {
		return "", "", err
	}
	return opts.Arg, filepath.Join(wd, opts.Arg), nil
}

func validateFlags(opts *Options) error {
	if opts.moduleSet {
		if err := state.ValidateModule(opts.Module); err != nil {
			return cmdutil.FlagErrorf("--module: %v", err)
		}
	}
	if err := state.ValidatePort(opts.Port); err != nil {
		return cmdutil.FlagErrorf("--port: %v", err)
	}
	if err := state.ValidateWorkers(opts.Workers); err != nil {
		return cmdutil.FlagErrorf("--workers: %v", err)
	}
	if err := state.ValidateDatabase(opts.DB); err != nil {
		return cmdutil.FlagErrorf("--db: %v", err)
	}
	if opts.maintainerSet {
		m, err := project.ValidateMaintainer(opts.Maintainer)
		if err != nil {
			return cmdutil.FlagErrorf("--maintainer: %v", err)
		}
		opts.Maintainer = m
	}
	return nil
}

// gitMaintainer is "Name <email>" from git's user.name and user.email, or "" when either
// is unset or the pair is not a valid maintainer.
func gitMaintainer() string {
	git, err := exec.LookPath("git")
	if err != nil {
		return ""
	}
	get := func(key string) string {
		out, err := exec.Command(git, "config", "--get", key).Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	name, email := get("user.name"), get("user.email")
	if name == "" || email == "" {
		return ""
	}
	m, err := project.ValidateMaintainer(name + " <" + email + ">")
	if err != nil {
		return ""
	}
	return m
}

// ask prompts for the values no flag gave, only on a terminal and without --yes, then
// prints the command that does the same without prompts.
func ask(opts *Options, name string) error {
	if opts.Module == "" {
		opts.Module = name
	}
	if !opts.maintainerSet {
		if opts.Maintainer = ""; opts.GitMaintainer != nil {
			opts.Maintainer = opts.GitMaintainer()
		}
		if opts.Maintainer == "" {
			opts.Maintainer = project.PlaceholderMaintainer
		}
	}
	missing := !opts.moduleSet || !opts.portSet || !opts.workersSet || !opts.dbSet || !opts.maintainerSet
	if opts.Yes || !missing {
		return nil
	}
	if !opts.IO.CanPrompt() {
		if !opts.DryRun {
			fmt.Fprintf(opts.IO.ErrOut, "No terminal to ask on: using --module %s --port %d --workers %d --db %s --maintainer %q (pass --yes to say so).\n", opts.Module, opts.Port, opts.Workers, opts.DB, opts.Maintainer)
		}
		return nil
	}
	var questions []prompter.Question
	module, port, workers, db, maintainer := "", "", "", "", ""
	if !opts.moduleSet {
		questions = append(questions, prompter.Question{Title: "Go module path", Description: "as in go.mod, e.g. github.com/acme/" + name, Default: opts.Module, Validate: state.ValidateModule, Answer: &module})
	}
	if !opts.portSet {
		questions = append(questions, prompter.Question{Title: "Development port", Default: strconv.Itoa(opts.Port), Validate: intRule(state.ValidatePort), Answer: &port})
	}
	if !opts.workersSet {
		questions = append(questions, prompter.Question{Title: "Production workers", Description: "worker processes of the prefork server", Default: strconv.Itoa(opts.Workers), Validate: intRule(state.ValidateWorkers), Answer: &workers})
	}
	if !opts.dbSet {
		questions = append(questions, prompter.Question{Title: "Database", Description: "none, sqlite (embedded, no server) or postgres", Default: opts.DB, Validate: state.ValidateDatabase, Answer: &db})
	}
	if !opts.maintainerSet {
		questions = append(questions, prompter.Question{Title: "Package maintainer", Description: "the .deb's and .rpm's Maintainer: " + project.MaintainerRule, Default: opts.Maintainer, Validate: func(s string) error { _, err := project.ValidateMaintainer(s); return err }, Answer: &maintainer})
	}
	if err := opts.Prompter.Ask(questions); err != nil {
		return err
	}
	if module != "" {
		opts.Module = module
	}
	if port != "" {
		opts.Port, _ = strconv.Atoi(port)
	}
	if workers != "" {
		opts.Workers, _ = strconv.Atoi(workers)
	}
	if db != "" {
		opts.DB = db
	}
	if maintainer != "" {
		opts.Maintainer = maintainer
	}
	check := &Options{Module: opts.Module, moduleSet: true, Port: opts.Port, Workers: opts.Workers, DB: opts.DB, Maintainer: opts.Maintainer, maintainerSet: true}
	if err := validateFlags(check); err != nil {
		return err
	}
	opts.Maintainer = check.Maintainer
	fmt.Fprintf(opts.IO.ErrOut, "\nThe same without prompts:\n  %s\n\n", equivalentCommand(opts))
	return nil
}

// askName asks for NAME, which no argument gave (only on a terminal: Args checked).
func askName(opts *Options) error {
	var name string
	err := opts.Prompter.Ask([]prompter.Question{{
		Title: "Project name", Description: "the folder, binary and default module path: " + state.NameRule,
		Validate: state.ValidateName, Required: true, Answer: &name,
	}})
	if err != nil {
		return err
	}
	opts.Arg = name
	return nil
}

func intRule(check func(int) error) func(string) error {
	return func(s string) error {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		return check(n)
	}
}

func equivalentCommand(opts *Options) string {
	parts := []string{"scaffold", "new", opts.Arg, "--module", opts.Module, "--port", strconv.Itoa(opts.Port), "--workers", strconv.Itoa(opts.Workers), "--db", opts.DB, "--maintainer", strconv.Quote(opts.Maintainer)}
	if opts.Force {
		parts = append(parts, "--force")
	}
	return strings.Join(append(parts, "--yes"), " ")
}

// printPlan lists what the dry run would write: each file's change, the bases in one line.
func printPlan(opts *Options, files *generators.FileSet, changes []state.Change, target string) {
	bases := 0
	for i, f := range files.Files() {
		if strings.HasPrefix(f.Path, project.BaseDir+"/") {
			bases++ // one line for them all, below
			continue
		}
		fmt.Fprintf(opts.IO.Out, "%-9s %s\n", changes[i], filepath.Join(displayPath(opts, target), filepath.FromSlash(f.Path)))
	}
	if bases > 0 {
		fmt.Fprintf(opts.IO.Out, "%-9s %s (%d files: what scaffold wrote, the base of scaffold update's merge)\n", "write", filepath.Join(displayPath(opts, target), filepath.FromSlash(project.BaseDir))+string(filepath.Separator), bases)
	}
	fmt.Fprintf(opts.IO.ErrOut, "Dry run: %d files; nothing was written.\n", files.Len())
}

// displayPath shows target relative to the working folder when it is inside it.
func displayPath(opts *Options, target string) string {
	if wd, err := opts.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, target); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return target
}
