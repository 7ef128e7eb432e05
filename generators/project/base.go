package project

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/merge"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// BaseDir holds, inside a project, what scaffold last wrote for each file it generates:
// the base of `scaffold update`'s three-way merge (copier renders the old template
// version for it; scaffold keeps the render). Plain files, for the user to commit; go,
// gofmt's ./... and the generated project's tools skip a folder starting with a dot.
// `scaffold new`, `update`, `add module` and `remove module` keep it current.
const BaseDir = ".scaffold/base"

// basePath is where p's base is kept.
func basePath(p string) string { return BaseDir + "/" + p }

// hasBase reports whether scaffold keeps a base of p: every file it renders but
// scaffold.yaml and the vendored packages (scaffold vendor's, whole files).
func hasBase(p string) bool { return p != state.ManifestFile && !vendoredFile(p) }

// AddBases adds to set the base of each file the render c recorded (c.Manifest.Files).
func (c *Context) AddBases(set *generators.FileSet) {
	for p := range c.Manifest.Files {
		if f, ok := c.Files.Get(p); ok && hasBase(p) {
			set.Add(basePath(p), f.Data, 0o644)
		}
	}
}

// stageBases adds to set what makes dir's bases exactly next (path -> base): each one
// that differs written, each one kept there for a path next does not name removed.
func stageBases(set *generators.FileSet, dir string, next map[string][]byte) error {
	for p, data := range next {
		if disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(basePath(p)))); err != nil || !bytes.Equal(disk, data) {
			set.Add(basePath(p), data, 0o644)
		}
	}
	root := filepath.Join(dir, filepath.FromSlash(BaseDir))
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if _, keep := next[filepath.ToSlash(rel)]; !keep {
			set.Remove(basePath(filepath.ToSlash(rel)))
		}
		return nil
	})
}

// hasBases reports whether the project in dir keeps bases (one from before them does not).
func hasBases(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, filepath.FromSlash(BaseDir)))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// readBase is p's base in dir when it is what the record says scaffold wrote (recorded,
// a FileChecksum); nil when there is none or it does not match.
func readBase(dir, p, recorded string) ([]byte, error) {
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(basePath(p))))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil || recorded == "" || state.FileChecksum(data) != recorded {
		return nil, err
	}
	return data, nil
}

// mergeConflict merges a Conflict of the plan line-wise against its base, as `git
// merge-file` does: clean, it becomes Merged; otherwise it stays a Conflict written in
// place with markers. Without a base, or for a file that is not text, p is unchanged
// (scaffold's version then goes beside it as FILE.scaffold-new).
func mergeConflict(dir, version string, p *state.Planned, recorded string) error {
	base, err := readBase(dir, p.Path, recorded)
	if err != nil || base == nil || !merge.Mergeable(base, p.Old, p.New) {
		return err
	}
	res := merge.Merge(base, p.Old, p.New, merge.Labels{Ours: "yours (" + p.Path + ")", Theirs: "scaffold " + version})
	p.Merged = res.Data
	if res.Conflicts == 0 {
		p.Change = state.Merged
	}
	return nil
}
