package project

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/runtime"
)

// sampleModules are the modules the templates themselves write (web/home always, web/notes
// with a database), as opposed to those `scaffold add module` records.
var sampleModules = []string{"home", "notes"}

// IsRemoved reports whether the user removed p (a file or a folder), for the templates:
// web/modules.go registers the sample module only while web/home is not removed.
func (d Data) IsRemoved(p string) bool { return state.RemovedIn(d.Removed, p) }

// dropRemoved takes what the user removed out of the render.
func dropRemoved(c *Context) error {
	for _, f := range c.Files.Files() {
		if state.RemovedIn(c.Options.Removed, f.Path) {
			c.Files.Drop(f.Path)
		}
	}
	return nil
}

// regenerated reports whether scaffold writes p, a file it generates, again whenever it
// is missing, so that deleting it is no removal: the vendored packages and the files
// scaffold owns (OwnerOf; deleting an edited web/modules.go is how to get it afresh).
func regenerated(p string) bool { return OwnerOf(p).Marked() }

// vendoredFile reports whether p is in a vendored package (the runtime, the configuration
// engine): a whole that `scaffold vendor` keeps, where a missing file is written again.
func vendoredFile(p string) bool {
	return state.Within(p, runtime.Dir) || state.Within(p, runtime.ConfigDir)
}

// missing reports whether dir/p is gone.
func missing(dir, p string) (bool, error) {
	_, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p)))
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	return false, err
}

// handRemoved are the modules whose folder the user deleted: each one added by `scaffold
// add module` is dropped from the record (so web/modules.go, regenerated from it, no
// longer registers it), and each sample one is recorded as removed. It returns the
// folders, and changes m.
func handRemoved(dir string, m *state.Manifest) ([]string, error) {
	var folders []string
	gone := func(folder string) (bool, error) {
		if !m.RecordsUnder(folder) || state.RemovedIn(m.Removed, folder) {
			return false, nil
		}
		return missing(dir, folder)
	}
	kept := m.Modules[:0:0]
	for _, mod := range m.Modules {
		g, err := gone(mod.Dir())
		if err != nil {
			return nil, err
		}
		if g {
			folders = append(folders, mod.Dir())
			continue
		}
		kept = append(kept, mod)
	}
	m.Modules = kept
	for _, name := range sampleModules {
		folder := "web/" + name
		g, err := gone(folder)
		if err != nil {
			return nil, err
		}
		if g {
			folders = append(folders, folder)
			m.Removed = append(m.Removed, folder)
		}
	}
	for _, folder := range folders {
		for p := range m.Files {
			if strings.HasPrefix(p, folder+"/") {
				delete(m.Files, p)
			}
		}
	}
	return folders, nil
}
