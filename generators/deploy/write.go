package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// Planned is one file of a plan: its path relative to the output folder and the path
// scaffold.yaml records it under, what writing it would do, and the contents on disk (nil
// when missing) and to write.
type Planned struct {
	Path     string
	Key      string
	Change   state.Change
	Old, New []byte
	// From is the ConfigDigest of the config/ New was derived from.
	From string
}

// Plan compares the generated files with what is in o (Locate) and with what scaffold.yaml
// records deploy-config last wrote there: state.Classify.
func (ctx *Context) Plan(o Output) ([]Planned, error) {
	record, err := recordIn(ctx.Dir, o)
	if err != nil {
		return nil, err
	}
	shared, err := state.PlanAgainst(ctx.Files, o.Path, record)
	if err != nil {
		return nil, err
	}
	plan := make([]Planned, len(shared))
	for i, p := range shared {
		plan[i] = Planned{Path: p.Path, Key: o.KeyOf(p.Path), Change: p.Change, Old: p.Old, New: p.New, From: ctx.ConfigSum}
	}
	return plan, nil
}

// ConfigDigest is the digest of a project's config/*.yaml as the shell computes it from
// the project folder, "sha256:" and the hex of LC_ALL=C sha256sum config/*.yaml | sha256sum.
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
		fmt.Fprintf(&list, "%s  %s\n", strings.TrimPrefix(state.FileChecksum(data), "sha256:"), n)
	}
	return state.FileChecksum([]byte(list.String())), nil
}

// Output is where one deploy-config run writes: --out, resolved once (Locate) against the
// project folder found by walking up, and passed on as this.
type Output struct {
	Path   string // the folder: --out, joined to the project folder when relative
	Key    string // what scaffold.yaml's paths of its files start with (slash-separated)
	Inside bool   // Path is inside the project folder
}

// Locate resolves out (relative to the project folder dir, or absolute). Inside the
// project, scaffold.yaml records its files by their path from the project folder
// (deploy/nginx/demo.conf); outside, by out as given, so that the same --out finds them
// again: ../ops/nginx/demo.conf, or /srv/demo/nginx/demo.conf.
func Locate(dir, out string) (Output, error) {
	o := Output{Path: out}
	if !filepath.IsAbs(out) {
		o.Path = filepath.Join(dir, out)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return o, err
	}
	absOut, err := filepath.Abs(o.Path)
	if err != nil {
		return o, err
	}
	rel, err := filepath.Rel(absDir, absOut)
	if err != nil {
		return o, err
	}
	if rel == "." {
		return o, &InputError{"--out", out, "is the project folder itself: give deploy-config a folder of its own, such as deploy"}
	}
	o.Inside = rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	switch {
	case o.Inside, !filepath.IsAbs(out):
		o.Key = filepath.ToSlash(rel)
	default:
		o.Key = filepath.ToSlash(filepath.Clean(out))
	}
	return o, nil
}

// KeyOf is the path scaffold.yaml records p, a file of o, under.
func (o Output) KeyOf(p string) string { return path.Join(o.Key, p) }

// recordIn is the checksum of what deploy-config last wrote into o, by path relative to
// it, as dir's scaffold.yaml records it.
func recordIn(dir string, o Output) (map[string]string, error) {
	record := map[string]string{}
	m, err := diskManifest(dir)
	if err != nil || m == nil {
		return record, err
	}
	for k, sum := range m.Files {
		if p, ok := strings.CutPrefix(k, o.Key+"/"); ok {
			record[p] = sum
		}
	}
	return record, nil
}

// diskManifest is dir's scaffold.yaml, nil when there is none yet (scaffold new).
func diskManifest(dir string) (*state.Manifest, error) {
	if _, err := os.Stat(filepath.Join(dir, state.ManifestFile)); errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return state.LoadManifest(dir)
}

// Diff is a unified diff of what writing the plan would change (edited files included,
// as --force would write them).
func Diff(plan []Planned) []byte {
	var b bytes.Buffer
	for _, p := range plan {
		if p.Change == state.Unchanged {
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

// Write puts the plan's files into o and their record into the project's scaffold.yaml
// (AddTo) in one atomic step (state.CommitAll): a failure part-way leaves both as they
// were. A Conflict (edited since scaffold wrote it, and different now) stops everything
// unless force; a Kept one is left.
func Write(dir string, o Output, plan []Planned, force bool) error {
	policy := state.RefuseEdited
	if force {
		policy = state.OverwriteEdited
	}
	set, err := Stage(o.Path, plan, policy)
	if err != nil {
		return err
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		return err
	}
	into := generators.NewFileSet()
	if err := AddTo(into, m, o, plan, set); err != nil {
		return err
	}
	if o.Inside {
		return state.Commit(into, dir, true)
	}
	record := generators.NewFileSet()
	f, _ := into.Get(state.ManifestFile)
	record.Add(f.Path, f.Data, f.Mode)
	return state.CommitAll(state.Into{Target: o.Path, Files: set, Force: true}, state.Into{Target: dir, Files: record, Force: true})
}

// AddTo adds to into, a commit into the project folder, what writing plan into o does
// there: staged's files (Stage) when o is inside the project, and scaffold.yaml with m
// recording plan: each file's checksum and config digest.
func AddTo(into *generators.FileSet, m *state.Manifest, o Output, plan []Planned, staged *generators.FileSet) error {
	record(m, plan)
	if o.Inside {
		for _, f := range staged.Files() {
			into.Add(o.KeyOf(f.Path), f.Data, f.Mode)
		}
	}
	data, err := m.Marshal()
	if err != nil {
		return err
	}
	into.Add(state.ManifestFile, data, 0o644)
	return nil
}

// Stage is what writing the plan into out puts there, paths relative to out: the files
// that change under policy. It touches no disk; out names the files in errors.
func Stage(out string, plan []Planned, policy state.EditPolicy) (*generators.FileSet, error) {
	shared := make([]state.Planned, len(plan))
	for i, p := range plan {
		shared[i] = state.Planned{Path: p.Path, Change: p.Change, Old: p.Old, New: p.New, Mode: 0o644}
	}
	set, err := state.Stage(shared, policy)
	var conflict *state.ConflictError
	if errors.As(err, &conflict) {
		return nil, &EditedError{Out: out, Paths: conflict.Paths}
	}
	return set, err
}

// record puts into m what writing plan leaves scaffold.yaml recording: each file's
// checksum (of scaffold's version, also when an edit is kept: what the next run compares
// with) and the config digest it was derived from.
func record(m *state.Manifest, plan []Planned) {
	for _, p := range plan {
		m.RecordDerived(p.Key, state.FileChecksum(p.New), p.From)
	}
}
