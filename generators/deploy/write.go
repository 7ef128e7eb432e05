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
const SumsFile = ".scaffold-sums"

const sumsHeader = "# Written by scaffold deploy-config: sha256 of each file as it was last written.\n# A file that no longer matches was edited and is not overwritten without --force.\n"

// Change says what writing one file does.
type Change string

// The kinds of Change.
const (
	Create    Change = "create"
	Overwrite Change = "overwrite" // unchanged since scaffold wrote it, now different
	Unchanged Change = "unchanged"
	Edited    Change = "edited" // changed by someone since scaffold wrote it (or not scaffold's): kept without --force
)

// Planned is one file of a plan: its path relative to the output folder, what writing it
// would do, and the contents on disk (nil when missing) and to write.
type Planned struct {
	Path     string
	Change   Change
	Old, New []byte
}

// Plan compares files with what is in out and with the sums recorded there.
func Plan(out string, files *generators.FileSet) ([]Planned, error) {
	sums, err := readSums(out)
	if err != nil {
		return nil, err
	}
	var plan []Planned
	for _, f := range files.Files() {
		p := Planned{Path: f.Path, New: f.Data}
		old, err := os.ReadFile(filepath.Join(out, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.Change = Create
		case err != nil:
			return nil, err
		case bytes.Equal(old, f.Data):
			p.Change, p.Old = Unchanged, old
		case sums[f.Path] == sum(old):
			p.Change, p.Old = Overwrite, old
		default:
			p.Change, p.Old = Edited, old
		}
		plan = append(plan, p)
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

// Write puts the plan's files into out in one atomic step (generators.FileSet.Commit) and
// records their sums. An Edited file stops everything unless force.
func Write(out string, plan []Planned, force bool) error {
	var edited []string
	for _, p := range plan {
		if p.Change == Edited {
			edited = append(edited, p.Path)
		}
	}
	if len(edited) > 0 && !force {
		return &EditedError{Out: out, Paths: edited}
	}
	sums, err := readSums(out)
	if err != nil {
		return err
	}
	set := generators.NewFileSet()
	for _, p := range plan {
		sums[p.Path] = sum(p.New)
		if p.Change != Unchanged {
			set.Add(p.Path, p.New, 0o644)
		}
	}
	set.Add(SumsFile, formatSums(sums), 0o644)
	return set.Commit(out, true)
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func readSums(out string) (map[string]string, error) {
	sums := map[string]string{}
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
		hexSum, name, ok := strings.Cut(line, "  ")
		if !ok || len(hexSum) != 64 {
			return nil, fmt.Errorf("%s:%d: want \"<sha256>  <path>\"; delete the file to start over", p, n)
		}
		sums[name] = hexSum
	}
	return sums, sc.Err()
}

func formatSums(sums map[string]string) []byte {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(sumsHeader)
	for _, n := range names {
		fmt.Fprintf(&b, "%s  %s\n", sums[n], n)
	}
	return []byte(b.String())
}
