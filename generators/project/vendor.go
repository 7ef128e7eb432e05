package project

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/runtime"
)

// VendorResult says what Vendor did.
type VendorResult struct {
	From, To  string   // runtime versions
	Written   []string // files written or rewritten
	Removed   []string // files the new runtime no longer has
	Kept      []string // files in the runtime folder that scaffold did not write
	Edited    []string // scaffold's files edited locally whose new version is the same: left as edited
	Conflicts []string // scaffold's files edited locally and changed in the new runtime: kept, the new version beside them as FILE.scaffold-new
}

// Vendor is `scaffold update` limited to the vendored runtime (`scaffold vendor`, or
// `scaffold update --runtime`): the runtime built into this scaffold replaces the
// project's file by file under update's rule (generators.Classify against the per-file
// checksums in scaffold.yaml) and policy (an edit is kept, the new version written beside
// it as FILE.scaffold-new), or with force the edits are overwritten. Files scaffold wrote
// that the new runtime no longer has go, unless edited; files the user added stay. One
// atomic commit: a failure part-way leaves the old runtime whole.
func Vendor(dir, version string, force bool) (*VendorResult, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	onDisk, err := readGoFiles(filepath.Join(dir, filepath.FromSlash(m.Runtime.Dir)))
	if err != nil {
		return nil, err
	}
	record := runtimeRecord(m, onDisk)
	files := RuntimeFiles(version)
	render := generators.NewFileSet()
	for name, data := range files {
		render.Add(path.Join(m.Runtime.Dir, name), data, 0o644)
	}
	plan, err := render.PlanAgainst(dir, record)
	if err != nil {
		return nil, err
	}
	policy := generators.SetAsideEdited
	if force {
		policy = generators.OverwriteEdited
	}
	set, err := generators.Stage(plan, policy)
	if err != nil {
		return nil, err
	}
	res := &VendorResult{From: m.Runtime.Version, To: version}
	for _, p := range plan {
		name := path.Base(p.Path)
		switch {
		case p.Change == generators.Create || p.Change == generators.Overwrite || (force && (p.Change == generators.Kept || p.Change == generators.Conflict)):
			res.Written = append(res.Written, name)
		case p.Change == generators.Kept:
			res.Edited = append(res.Edited, name)
		case p.Change == generators.Conflict:
			res.Conflicts = append(res.Conflicts, name)
		}
	}
	// Files scaffold wrote before that the new runtime no longer has go in the same
	// commit, unless edited; a file the user added stays.
	previous := m.Runtime.Files
	for name, data := range onDisk {
		p := path.Join(m.Runtime.Dir, name)
		switch _, still := files[name]; {
		case still:
		case !contains(previous, name):
			res.Kept = append(res.Kept, name)
		case force || record[p] == generators.FileChecksum(data):
			set.Remove(p)
			res.Removed = append(res.Removed, name)
		default:
			res.Edited = append(res.Edited, name)
		}
	}
	m.Runtime = Runtime{Dir: m.Runtime.Dir, Version: version, Files: runtime.Names()}
	// The record now holds what this runtime wrote, conflicts included, as update's does:
	// each file's checksum, or in a manifest from before them the runtime's one.
	if !m.RecordsProjectFiles() {
		m.Runtime.Checksum = Checksum(files)
	} else {
		for _, name := range previous {
			delete(m.Files, path.Join(m.Runtime.Dir, name))
		}
		for name, data := range files {
			m.Files[path.Join(m.Runtime.Dir, name)] = FileChecksum(data)
		}
	}
	manifest, err := m.Marshal()
	if err != nil {
		return nil, err
	}
	set.Add(ManifestFile, manifest, 0o644)
	if err := set.Commit(dir, true); err != nil {
		return nil, err
	}
	for _, l := range [][]string{res.Written, res.Removed, res.Kept, res.Edited, res.Conflicts} {
		sort.Strings(l)
	}
	return res, nil
}

// runtimeRecord is the checksum scaffold last wrote for each runtime file: from
// scaffold.yaml's files map, or, in a manifest from before it, every file on disk counts
// as scaffold's when together they match the runtime's checksum (and as edited if not).
func runtimeRecord(m *Manifest, onDisk map[string][]byte) map[string]string {
	record := map[string]string{}
	if m.RecordsProjectFiles() {
		for _, name := range m.Runtime.Files {
			p := path.Join(m.Runtime.Dir, name)
			if sum, ok := m.Files[p]; ok {
				record[p] = sum
			}
		}
		return record
	}
	ours := map[string][]byte{}
	for name, data := range onDisk {
		if contains(m.Runtime.Files, name) {
			ours[name] = data
		}
	}
	if Checksum(ours) == m.Runtime.Checksum {
		for name, data := range ours {
			record[path.Join(m.Runtime.Dir, name)] = FileChecksum(data)
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

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
