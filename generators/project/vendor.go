package project

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/runtime"
)

// VendorResult says what `scaffold vendor` did (or, in a dry run, would do). Paths are
// relative to the project: internal/prefork/doc.go.
type VendorResult struct {
	From, To  string   // runtime versions
	DryRun    bool     // nothing was written
	Written   []string // files written or rewritten
	Removed   []string // files the new runtime no longer has
	Kept      []string // files in the runtime folders that scaffold did not write
	Edited    []string // scaffold's files edited locally whose new version is the same: left as edited
	Conflicts []string // scaffold's files edited locally and changed in the new runtime: kept, the new version beside them as FILE.scaffold-new
	// Unresolved are the conflicts of an earlier run still open (FILE.scaffold-new still
	// beside the file, or conflict markers in it): left alone, listed on every run until resolved.
	Unresolved []string
	SetAside   []string // scaffold's files of the runtime's tree that the new runtime does not have, edited by you: renamed FILE.scaffold-old, out of the build
}

// OldSuffix names a Go file set aside from the vendored runtime's tree, which vendoring
// replaces whole: FILE.scaffold-old is kept for you to read and is not compiled.
const OldSuffix = ".scaffold-old"

// vendored is one package scaffold copies into a project: the runtime, and the
// configuration engine that imports it.
type vendored struct {
	dir      string            // in the project: internal/prefork
	files    map[string][]byte // this scaffold's, by path relative to dir
	previous []string          // the paths scaffold wrote there last
	whole    bool              // replaced whole: no other Go file may stay in dir (the runtime's tree)
	record   map[string]string // path -> the checksum scaffold last wrote
	onDisk   map[string][]byte
}

// PlanVendor plans `scaffold update` limited to the vendored runtime (`scaffold vendor`, or
// `scaffold update --runtime`) and the configuration engine beside it when the project
// has one: this scaffold's copies replace the project's file by file under update's rule
// (state.Classify against the per-file checksums in scaffold.yaml) and policy (an
// edit is kept, the new version written beside it as FILE.scaffold-new), or with force the
// edits are overwritten. The runtime's tree is replaced whole: a file scaffold wrote that
// the new runtime does not have goes if unedited, and is otherwise renamed
// FILE.scaffold-old (out of the build, listed in SetAside), so no stale file of an older
// layout is compiled; in the configuration engine such an edited file stays. A file the
// user added stays in both. One atomic commit: a failure part-way leaves the old runtime
// whole (generators/pipeline.Vendor commits the set PlanVendor returns).
func PlanVendor(dir, version string, force bool) (*VendorResult, *generators.FileSet, error) {
	m, err := state.LoadManifest(dir)
	if err != nil {
		return nil, nil, err
	}
	pkgs, err := vendoredPackages(dir, m, version)
	if err != nil {
		return nil, nil, err
	}
	render := generators.NewFileSet()
	record := map[string]string{}
	for _, pkg := range pkgs {
		for name, data := range pkg.files {
			render.Add(path.Join(pkg.dir, name), data, 0o644)
		}
		maps.Copy(record, pkg.record)
	}
	plan, err := state.PlanAgainst(render, dir, record)
	if err != nil {
		return nil, nil, err
	}
	policy := state.SetAsideEdited
	if force {
		policy = state.OverwriteEdited
	}
	// An earlier conflict still open is left alone and listed, as update does; --force
	// takes scaffold's version, open conflicts included.
	for i := 0; i < len(plan) && !force; i++ {
		if _, _, err := state.HoldOpen(dir, &plan[i]); err != nil {
			return nil, nil, err
		}
	}
	set, err := state.Stage(plan, policy)
	if err != nil {
		return nil, nil, err
	}
	res := &VendorResult{From: m.Runtime.Version, To: version}
	for _, p := range plan {
		switch {
		case p.Change == state.Create || p.Change == state.Overwrite || (force && (p.Change == state.Kept || p.Change == state.Conflict)):
			res.Written = append(res.Written, p.Path)
		case p.Change == state.Kept:
			res.Edited = append(res.Edited, p.Path)
		case p.Change == state.Conflict:
			res.Conflicts = append(res.Conflicts, p.Path)
		case p.Change == state.Unresolved:
			res.Unresolved = append(res.Unresolved, p.Path)
		}
	}
	for _, pkg := range pkgs {
		// Files scaffold wrote before that the new copy no longer has go in the same
		// commit, unless edited; a file the user added stays.
		for name, data := range pkg.onDisk {
			p := path.Join(pkg.dir, name)
			switch _, still := pkg.files[name]; {
			case still:
			case !contains(pkg.previous, name):
				res.Kept = append(res.Kept, p)
			case state.ClassifyOrphan(pkg.record[p], data, policy) == state.Delete:
				set.Remove(p)
				res.Removed = append(res.Removed, p)
			case pkg.whole:
				set.Remove(p)
				set.Add(p+OldSuffix, data, 0o644)
				res.SetAside = append(res.SetAside, p)
			default:
				res.Edited = append(res.Edited, p)
			}
		}
		// The record now holds what this copy wrote, conflicts included, as update's
		// does: each file's checksum.
		for _, name := range pkg.previous {
			delete(m.Files, path.Join(pkg.dir, name))
		}
		for name, data := range pkg.files {
			m.Files[path.Join(pkg.dir, name)] = state.FileChecksum(data)
		}
	}
	m.Runtime = state.Runtime{Dir: m.Runtime.Dir, Version: version, Files: runtime.Names()}
	manifest, err := m.Marshal()
	if err != nil {
		return nil, nil, err
	}
	set.Add(state.ManifestFile, manifest, 0o644)
	for _, l := range [][]string{res.Written, res.Removed, res.Kept, res.Edited, res.Conflicts, res.Unresolved, res.SetAside} {
		sort.Strings(l)
	}
	return res, set, nil
}

// vendoredPackages is the runtime, then the configuration engine that imports it.
func vendoredPackages(dir string, m *state.Manifest, version string) ([]vendored, error) {
	onDisk, err := readGoTree(filepath.Join(dir, filepath.FromSlash(m.Runtime.Dir)))
	if err != nil {
		return nil, err
	}
	pkgs := []vendored{{dir: m.Runtime.Dir, files: RuntimeFiles(m.Module, version), previous: m.Runtime.Files, record: runtimeRecord(m), onDisk: onDisk, whole: true}}
	engine := vendored{dir: runtime.ConfigDir, files: ConfigFiles(m.Module, version), record: map[string]string{}}
	for p, sum := range m.Files {
		if name, ok := strings.CutPrefix(p, runtime.ConfigDir+"/"); ok && !strings.Contains(name, "/") {
			engine.previous = append(engine.previous, name)
			engine.record[p] = sum
		}
	}
	if engine.onDisk, err = readGoFiles(filepath.Join(dir, filepath.FromSlash(runtime.ConfigDir))); err != nil {
		return nil, err
	}
	return append(pkgs, engine), nil
}

// runtimeRecord is the checksum scaffold last wrote for each runtime file, from
// scaffold.yaml's files map.
func runtimeRecord(m *state.Manifest) map[string]string {
	record := map[string]string{}
	for _, name := range m.Runtime.Files {
		p := path.Join(m.Runtime.Dir, name)
		if sum, ok := m.Files[p]; ok {
			record[p] = sum
		}
	}
	return record
}

func readGoFiles(dir string) (map[string][]byte, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading the vendored runtime: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".go" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = data
	}
	return files, nil
}

// readGoTree is every Go file under dir, by slash-separated path relative to it.
func readGoTree(dir string) (map[string][]byte, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading the vendored runtime: %w", err)
		}
		if d.IsDir() || path.Ext(d.Name()) != ".go" {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = data
		return err
	})
	return files, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
