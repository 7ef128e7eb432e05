package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// RemoveResult says what `scaffold remove module` does (or, dry, would do).
type RemoveResult struct {
	Name    string
	Changes []AddChange
	// ConfigEdited means config.yaml had the user's edits, so the module's section was cut
	// out of their file rather than the file re-rendered.
	ConfigEdited bool
	// Dropped are the module folders the user had deleted, dropped from the record too.
	Dropped []string
	// Emptied are the module folders the commit empties, for Tidy to take away.
	Emptied []string
}

// PlanRemoveModule plans taking module name out of the project in dir in one atomic commit: every
// file under web/NAME/, its registration in web/modules.go and factory/modules.go, its
// config section, and its record in scaffold.yaml (a module `scaffold add` wrote is
// dropped from modules:, the sample web/home recorded under removed:). A module whose
// folder the user already deleted only has its record and registrations brought along.
// It writes nothing: it returns the set that commit writes into dir
// (generators/pipeline.RemoveModule).
func PlanRemoveModule(dir, name string) (*RemoveResult, *generators.FileSet, error) {
	if name == "" {
		return nil, nil, fmt.Errorf("module name is empty: use %s", ModuleNameRule)
	}
	e, err := beginModuleEdit(dir)
	if err != nil {
		return nil, nil, err
	}
	var removed []state.Module
	i := slices.IndexFunc(e.next.Modules, func(m state.Module) bool { return m.Name == name })
	switch {
	case i >= 0:
		removed = append(removed, e.next.Modules[i])
		e.next.Modules = slices.Delete(e.next.Modules, i, i+1)
	case slices.Contains(e.dropped, "web/"+name):
		// Deleted by hand: beginModuleEdit dropped it; the commit records that.
	case name == "home" && !state.RemovedIn(e.next.Removed, "web/home"):
		removed = append(removed, state.Module{Name: name})
		e.next.Removed = append(e.next.Removed, "web/home")
	case name == "notes" && e.next.Answers.Database != "" && !state.RemovedIn(e.next.Removed, "web/notes"):
		return nil, nil, fmt.Errorf("module \"notes\" is registered in web/app.go, which is yours, not in web/modules.go: take its lines out of web/app.go and delete web/notes/; the next `scaffold update` records it as removed")
	default:
		return nil, nil, fmt.Errorf("module %q is not in this project: %s", name, e.inventory())
	}
	res := &RemoveResult{Name: name, Dropped: e.dropped}
	set, configEdited, err := e.commitSet(nil, removed, "")
	if err != nil {
		return nil, nil, err
	}
	res.ConfigEdited = configEdited
	if res.Changes, err = e.plan(set); err != nil {
		return nil, nil, err
	}
	res.Emptied = removedDirs(removed)
	return res, set, nil
}

// inventory names the modules the project has, for an error.
func (e *moduleEdit) inventory() string {
	var names []string
	for _, s := range sampleModules {
		if e.old.RecordsUnder("web/"+s) && !state.RemovedIn(e.next.Removed, "web/"+s) {
			names = append(names, s)
		}
	}
	for _, m := range e.next.Modules {
		names = append(names, m.Name)
	}
	if len(names) == 0 {
		return "it has none"
	}
	return "it has " + strings.Join(names, ", ")
}

// Tidy removes the folders a commit into dir left empty: each of emptied (a removed
// module's, from the project folder) and those below BaseDir (a module's bases, after it
// went), keeping BaseDir itself and any folder that still holds something of the user's.
func Tidy(dir string, emptied ...string) {
	for _, folder := range emptied {
		pruneEmpty(filepath.Join(dir, filepath.FromSlash(folder)), true)
	}
	pruneEmpty(filepath.Join(dir, filepath.FromSlash(BaseDir)), false)
}

func pruneEmpty(root string, withRoot bool) {
	var dirs []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() && (withRoot || p != root) {
			dirs = append(dirs, p)
		}
		return nil
	})
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			continue // not empty: something of the user's is left
		}
	}
}

// cutModuleConfig takes m's section out of a config.yaml the user edited: its key under the
// top-level modules: and the lines indented below it (the inverse of insertModuleConfig).
// A file without the section comes back as it was.
func cutModuleConfig(data []byte, m state.Module) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	var out strings.Builder
	inModules := false
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], "\n")
		if line != "" && line[0] != ' ' && line[0] != '\t' && line[0] != '#' {
			inModules = modulesKey.MatchString(line)
		}
		if inModules && (strings.HasPrefix(line, "  "+m.Name+":")) {
			for i+1 < len(lines) && isDeeper(lines[i+1]) {
				i++
			}
			continue
		}
		out.WriteString(lines[i])
	}
	return []byte(out.String())
}

// isDeeper reports whether a line sits inside a module's section: indented past its key.
func isDeeper(line string) bool {
	return strings.HasPrefix(line, "   ") || strings.HasPrefix(line, "\t") || strings.HasPrefix(line, "  \t")
}
