package project

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/runtime"
)

// ErrRuntimeEdited means the vendored runtime differs from what scaffold wrote.
var ErrRuntimeEdited = errors.New("the vendored runtime was edited")

// VendorResult says what Vendor did.
type VendorResult struct {
	From, To string   // runtime versions
	Written  []string // files written or rewritten
	Removed  []string // files the new runtime no longer has
	Kept     []string // files in the runtime folder that scaffold did not write
}

// Vendor rewrites the project's vendored runtime with this scaffold's and updates
// scaffold.yaml. It refuses, unless force, when the copy on disk no longer matches the
// checksum recorded when it was written (someone edited it), naming the edited files.
func Vendor(dir, version string, force bool) (*VendorResult, error) {
	m, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	rtDir := filepath.Join(dir, filepath.FromSlash(m.Runtime.Dir))
	onDisk, err := readGoFiles(rtDir)
	if err != nil {
		return nil, err
	}
	// Only scaffold's files count: a file the user added to the package is theirs and stays.
	ours := map[string][]byte{}
	for name, data := range onDisk {
		if contains(m.Runtime.Files, name) {
			ours[name] = data
		}
	}
	if sum := Checksum(ours); sum != m.Runtime.Checksum && !force {
		return nil, fmt.Errorf("%w: %s no longer matches the checksum in %s (%s); its changes would be lost. Move them out of %s, or use --force to overwrite them",
			ErrRuntimeEdited, m.Runtime.Dir, ManifestFile, describeEdits(ours, m), m.Runtime.Dir)
	}
	files := RuntimeFiles(version)
	set := generators.NewFileSet()
	for name, data := range files {
		set.Add(path.Join(m.Runtime.Dir, name), data, 0o644)
	}
	res := &VendorResult{From: m.Runtime.Version, To: version}
	previous := m.Runtime.Files
	m.Runtime = Runtime{Dir: m.Runtime.Dir, Version: version, Checksum: Checksum(files), Files: runtime.Names()}
	// Keep `scaffold update`'s per-file checksums in step with the runtime just written.
	if m.Files != nil {
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
	// Files scaffold wrote before that the new runtime no longer has go in the same
	// all-or-nothing commit (a failure part-way leaves the old runtime whole); a file the
	// user added stays.
	for name := range onDisk {
		if _, still := files[name]; still {
			continue
		}
		if !contains(previous, name) {
			res.Kept = append(res.Kept, name)
			continue
		}
		set.Remove(path.Join(m.Runtime.Dir, name))
		res.Removed = append(res.Removed, name)
	}
	if err := set.Commit(dir, true); err != nil {
		return nil, err
	}
	for name := range files {
		res.Written = append(res.Written, name)
	}
	sort.Strings(res.Written)
	sort.Strings(res.Removed)
	sort.Strings(res.Kept)
	return res, nil
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

// describeEdits says which of scaffold's files are missing, or that contents changed.
func describeEdits(ours map[string][]byte, m *Manifest) string {
	var missing []string
	for _, name := range m.Runtime.Files {
		if _, ok := ours[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("files removed: %v", missing)
	}
	return "file contents changed"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
