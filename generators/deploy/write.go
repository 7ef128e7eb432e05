package deploy

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/scaffoldgo/scaffold/generators"
)

// SumsFile, in the output folder, records the sha256 of each file as deploy-config last
// wrote it: a file that no longer matches was edited by someone and is kept unless --force.
// Beside each sum it records the ConfigDigest of the config/ the file was derived from, so
// `make package-check` can tell a file that config/ has since made stale.
const SumsFile = ".scaffold-sums"

const sumsHeader = "# Written by scaffold deploy-config: sha256 of each file as it was last written, and the digest of\n# config/ it was derived from (LC_ALL=C sha256sum config/*.yaml | sha256sum, from the project folder).\n# A file that no longer matches was edited and is not overwritten without --force.\n"

// Change says what writing one file does: the shared file-state model's generators.Change.
type Change = generators.Change

// The kinds of Change deploy-config reports.
const (
	Create    = generators.Create
	Overwrite = generators.Overwrite // unchanged since scaffold wrote it, now different
	Unchanged = generators.Unchanged
	Kept      = generators.Kept     // edited since scaffold wrote it, scaffold's version the same: nothing to write
	Edited    = generators.Conflict // edited since scaffold wrote it (or not scaffold's), and different now: kept without --force
)

// Planned is one file of a plan: its path relative to the output folder, what writing it
// would do, and the contents on disk (nil when missing) and to write.
type Planned struct {
	Path     string
	Change   Change
	Old, New []byte
	// From is the ConfigDigest of the config/ New was derived from ("": not recorded).
	From string
}

// Plan compares the generated files with what is in out, recording the config they were
// derived from (see SumsFile).
func (ctx *Context) Plan(out string) ([]Planned, error) {
	plan, err := Plan(out, ctx.Files)
	for i := range plan {
		plan[i].From = ctx.ConfigSum
	}
	return plan, err
}

// ConfigDigest is the digest of a project's config/*.yaml as the shell computes it from
// the project folder: LC_ALL=C sha256sum config/*.yaml | sha256sum.
func ConfigDigest(project fs.FS) (string, error) {
	names, err := fs.Glob(project, "config/*.yaml")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	var list strings.Builder
	for _, n := range names {
		data, err := fs.ReadFile(project, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&list, "%s  %s\n", sum(data), n)
	}
	return sum([]byte(list.String())), nil
}

// Plan compares files with what is in out and with the sums recorded there
// (generators.Classify).
func Plan(out string, files *generators.FileSet) ([]Planned, error) {
	sums, err := readSums(out)
	if err != nil {
		return nil, err
	}
	record := map[string]string{}
	for p, r := range sums {
		record[p] = "sha256:" + r.sum
	}
	shared, err := files.PlanAgainst(out, record)
	if err != nil {
		return nil, err
	}
	plan := make([]Planned, len(shared))
	for i, p := range shared {
		plan[i] = Planned{Path: p.Path, Change: p.Change, Old: p.Old, New: p.New}
	}
	return plan, nil
}

// Diff is a unified diff of what writing the plan would change (edited files included,
// as --force would write them).
func Diff(plan []Planned) []byte {
	var b bytes.Buffer
	for _, p := range plan {
		if p.Change == Unchanged {
			continue
		}
		oldName := "a/" + p.Path
		if p.Old == nil {
			oldName = "/dev/null"
		}
		b.Write(diff.Diff(oldName, p.Old, "b/"+p.Path, p.New))
	}
	return b.Bytes()
}

// EditedError lists files that were edited since deploy-config wrote them.
type EditedError struct {
	Out   string
	Paths []string
}

func (e *EditedError) Error() string {
	var full []string
	for _, p := range e.Paths {
		full = append(full, filepath.Join(e.Out, filepath.FromSlash(p)))
	}
	return fmt.Sprintf("%s changed since scaffold wrote it (or scaffold did not write it): nothing written; see the difference with --dry-run, overwrite with --force", strings.Join(full, ", "))
}

// EditPolicy says what writing does with a file edited since scaffold wrote it.
type EditPolicy = generators.EditPolicy

// The kinds of EditPolicy.
const (
	RefuseEdited    = generators.RefuseEdited    // nothing is written (deploy-config without --force)
	OverwriteEdited = generators.OverwriteEdited // the edit is lost (--force)
	SetAsideEdited  = generators.SetAsideEdited  // the edit stays, the new version goes beside it as FILE.scaffold-new (scaffold new, update)
)

// Write puts the plan's files into out in one atomic step (generators.FileSet.Commit) and
// records their sums. An Edited file stops everything unless force; a Kept one is left.
func Write(out string, plan []Planned, force bool) error {
	policy := RefuseEdited
	if force {
		policy = OverwriteEdited
	}
	set, err := Stage(out, plan, policy)
	if err != nil {
		return err
	}
	return set.Commit(out, true)
}

// Stage is what writing the plan into out puts there, paths relative to out: the files
// that change and the updated SumsFile. It writes nothing.
func Stage(out string, plan []Planned, policy EditPolicy) (*generators.FileSet, error) {
	shared := make([]generators.Planned, len(plan))
	for i, p := range plan {
		shared[i] = generators.Planned{Path: p.Path, Change: p.Change, Old: p.Old, New: p.New, Mode: 0o644}
	}
	set, err := generators.Stage(shared, policy)
	var conflict *generators.ConflictError
	if errors.As(err, &conflict) {
		return nil, &EditedError{Out: out, Paths: conflict.Paths}
	}
	if err != nil {
		return nil, err
	}
	sums, err := readSums(out)
	if err != nil {
		return nil, err
	}
	for _, p := range plan {
		sums[p.Path] = recorded{sum: sum(p.New), from: p.From}
	}
	set.Add(SumsFile, formatSums(sums), 0o644)
	return set, nil
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// recorded is one file's line of SumsFile.
type recorded struct {
	sum  string // sha256 of the content written
	from string // ConfigDigest of the config it was derived from; "" when not recorded
}

func readSums(out string) (map[string]recorded, error) {
	sums := map[string]recorded{}
	p := filepath.Join(out, SumsFile)
	data, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return sums, nil
	}
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		hexSum, rest, ok := strings.Cut(line, "  ")
		name, from, _ := strings.Cut(rest, "  config=")
		if !ok || len(hexSum) != 64 || name == "" || (from != "" && len(from) != 64) {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  <path>  config=<sha256>\"; delete the file to start over", p, n)
		}
		sums[name] = recorded{sum: hexSum, from: from}
	}
	return sums, sc.Err()
}

func formatSums(sums map[string]recorded) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(sumsHeader)
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s", sums[n].sum, n)
		if sums[n].from != "" {
			fmt.Fprintf(&b, "  config=%s", sums[n].from)
		}
		b.WriteString("\n")
	}
	return []byte(b.String())
}
