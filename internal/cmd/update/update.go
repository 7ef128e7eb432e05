// Package update implements `scaffold update`.
package update

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/packaging"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/internal/build"
	vendorcmd "github.com/scaffoldgo/scaffold/internal/cmd/vendor"
	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Options are `scaffold update`'s flags and dependencies.
type Options struct {
	IO      *iostreams.IOStreams
	Dir     string
	DryRun  bool
	Verbose bool
	Runtime bool // the vendored runtime only: scaffold vendor
}

// NewCmdUpdate builds the command; runF replaces the run function in tests.
func NewCmdUpdate(f *cmdutil.Factory, runF func(*Options) error) *cobra.Command {
	opts := &Options{IO: f.IOStreams}
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Bring the project up to this scaffold's templates without losing your edits",
		Long: `Re-render the project from the answers recorded in scaffold.yaml with this scaffold's
templates. A file you did not edit is updated; a file you edited is kept, and when the
template changed too, your edits and scaffold's are merged line by line against the base
scaffold keeps in .scaffold/base/ (as git merge-file does): in place when they touch
different lines, with <<<<<<< ======= >>>>>>> conflict markers around the lines you both
changed otherwise (a file that is not text, or has no base yet, gets scaffold's version
beside it as FILE.scaffold-new). Open conflicts are listed on every run until resolved.
A file you deleted stays deleted. Files you added are never touched. The units the packages install
(packaging/, as make package-units writes them) are brought up to date from config/ in
the same step. An older scaffold kept them in deploy/, where deploy-config writes your
host's files: each one there is removed only when scaffold wrote it for the package
layout and it is unchanged since (scaffold.yaml's checksum); one you edited, or that
deploy-config rewrote for your host, stays. Every one is listed.

Exits 0 when done, conflicts included (like dpkg leaving .dpkg-dist files): the project
is consistent and the .scaffold-new files are listed at the end.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(opts)
			}
			return updateRun(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", ".", "project folder (holding scaffold.yaml)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print what would change and write nothing")
	cmd.Flags().BoolVarP(&opts.Verbose, "verbose", "v", false, "list every file, the unchanged ones too")
	cmd.Flags().BoolVar(&opts.Runtime, "runtime", false, "the vendored runtime (internal/prefork) only, as scaffold vendor does")
	return cmd
}

func updateRun(opts *Options) error {
	dir, err := cmdutil.ProjectDir(opts.IO, opts.Dir)
	if err != nil {
		return err
	}
	version, _, _ := build.Info()
	if opts.Runtime {
		res, err := project.Vendor(dir, version, false, opts.DryRun)
		if err != nil {
			return err
		}
		vendorcmd.Report(opts.IO.Out, res)
		return nil
	}
	res, err := packaging.Update(dir, version, opts.DryRun)
	if err != nil {
		return err
	}
	out := opts.IO.Out
	if res.NoChecksums {
		fmt.Fprintf(out, "%s has no file checksums (written by an older scaffold): every file that differs from the new version is treated as edited by you.\n", project.ManifestFile)
	}
	if res.NoBases {
		fmt.Fprintf(out, "This project keeps no merge bases yet (%s/, from an older scaffold): this update stores them, so this time a conflict is whole-file (FILE%s); from the next update on, your edits and scaffold's are merged line by line.\n", project.BaseDir, generators.ConflictSuffix)
	}
	if opts.DryRun {
		for _, e := range res.Entries {
			fmt.Fprint(out, e.Diff)
		}
	}
	counts := map[generators.Change]int{}
	for _, e := range res.Entries {
		counts[e.Action]++
		if e.Action == generators.Unchanged && !opts.Verbose {
			continue
		}
		switch e.Action {
		case generators.Conflict:
			if e.Markers {
				fmt.Fprintf(out, "conflict: %s: you and scaffold changed the same lines; both are in it between <<<<<<< and >>>>>>> markers\n", e.Path)
			} else {
				fmt.Fprintf(out, "conflict: kept your %s, scaffold's new version in %s%s\n", e.Path, e.Path, generators.ConflictSuffix)
			}
		case generators.Merged:
			fmt.Fprintf(out, "merged: %s (your edits and scaffold's changes, line by line)\n", e.Path)
		case generators.Unresolved:
			if e.Markers {
				fmt.Fprintf(out, "unresolved: %s still holds conflict markers; left as it is\n", e.Path)
			} else {
				fmt.Fprintf(out, "unresolved: %s%s is still there: merge it into %s, then delete it; left as it is\n", e.Path, generators.ConflictSuffix, e.Path)
			}
		case generators.Kept:
			fmt.Fprintf(out, "kept (edited by you): %s\n", e.Path)
		case generators.Removed:
			fmt.Fprintf(out, "removed by you: %s (kept removed, recorded in %s)\n", e.Path, project.ManifestFile)
		case generators.Orphan:
			fmt.Fprintf(out, "no longer generated by scaffold: %s (left in place)\n", e.Path)
		case generators.Overwrite:
			fmt.Fprintf(out, "update: %s\n", e.Path)
		default:
			fmt.Fprintf(out, "%s: %s\n", e.Action, e.Path)
		}
	}
	for _, mv := range res.Moves {
		if mv.Left != "" {
			fmt.Fprintf(out, "left in place: %s (%s); the packages install %s\n", mv.From, mv.Left, mv.To)
		} else {
			fmt.Fprintf(out, "moved: %s -> %s\n", mv.From, mv.To)
		}
	}
	verb := "Updated"
	if opts.DryRun {
		verb = "Dry run, nothing written: would update"
	}
	fmt.Fprintf(out, "%s the project from scaffold %s to %s: %s.\n", verb, res.From, res.To, summary(counts))
	if res.Conflicts+res.Unresolved > 0 {
		fmt.Fprintf(out, "%d conflict(s) to resolve: %s. Where there are markers, keep what you want between <<<<<<< and >>>>>>> and delete the marker lines; beside a FILE%s, merge it into FILE and delete it. Every update lists them until then.\n", res.Conflicts+res.Unresolved, strings.Join(openConflicts(res.Entries), ", "), generators.ConflictSuffix)
		if code := codeConflicts(res.Entries); len(code) > 0 {
			fmt.Fprintf(out, "Until %s %s merged, the project may not build or start: the files around %s were updated to scaffold's new version.\n", strings.Join(code, ", "), isAre(len(code)), itThem(len(code)))
		}
	}
	return nil
}

// openConflicts lists the files in conflict, new or unresolved.
func openConflicts(entries []project.UpdateEntry) []string {
	var out []string
	for _, e := range entries {
		if e.Action == generators.Conflict || e.Action == generators.Unresolved {
			out = append(out, e.Path)
		}
	}
	return out
}

// codeConflicts lists the conflicts in files the project builds or reads at start (Go
// code, config/, go.mod, the Makefile), whose old version may not fit the updated rest.
func codeConflicts(entries []project.UpdateEntry) []string {
	var code []string
	for _, e := range entries {
		if e.Action != generators.Conflict && e.Action != generators.Unresolved {
			continue
		}
		if strings.HasSuffix(e.Path, ".go") || strings.HasPrefix(e.Path, "config/") || e.Path == "go.mod" || e.Path == "Makefile" {
			code = append(code, e.Path)
		}
	}
	return code
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// summary counts the files by fate, in a fixed order, leaving out the kinds with none.
func summary(counts map[generators.Change]int) string {
	var parts []string
	for _, a := range []generators.Change{generators.Create, generators.Overwrite, generators.Merged, generators.Conflict, generators.Unresolved, generators.Kept, generators.Removed, generators.Orphan, generators.Unchanged} {
		if n := counts[a]; n > 0 {
			name := string(a)
			switch a {
			case generators.Create:
				name = "created"
			case generators.Overwrite:
				name = "updated"
			case generators.Conflict:
				name = "in conflict"
			case generators.Orphan:
				name = "no longer generated"
			case generators.Removed:
				name = "removed by you"
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		}
	}
	if len(parts) == 0 {
		return "no files"
	}
	return strings.Join(parts, ", ")
}
