package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// Files scaffold owns (OwnedByScaffold), and the config file add module extends.
const (
	ModulesFile       = "web/modules.go"
	ModulesConfigFile = "factory/modules.go"
	configYAML        = "config/config.yaml"
)

// AddResult says what `scaffold add module` writes (or, dry, would write).
type AddResult struct {
	Module  state.Module
	Changes []AddChange
	// ConfigEdited means config.yaml had the user's edits, so the module's section was
	// inserted into their file rather than the file re-rendered.
	ConfigEdited bool
	// Unregistered means web/app.go does not call registerModules (an update's conflict
	// not merged yet), so no module of web/modules.go is served.
	Unregistered bool
	// Dropped are the module folders the user had deleted, dropped from the record first.
	Dropped []string
}

// AddChange is one file AddModule or RemoveModule writes or removes.
type AddChange struct {
	Path   string
	Change state.Change
}

// PlanAddModule plans adding module m to the project in dir: web/NAME/ (new files only), the
// regenerated web/modules.go and factory/modules.go, with m.Config its section in
// config/config.yaml, and m recorded in scaffold.yaml so `scaffold update` re-renders it.
// It refuses a bad or taken name, an edited scaffold-owned file and a project from
// before modules. It writes nothing: it returns the set one atomic commit writes into dir
// (generators/pipeline.AddModule).
func PlanAddModule(dir string, m state.Module) (*AddResult, *generators.FileSet, error) {
	if err := ValidateModuleName(m.Name); err != nil {
		return nil, nil, err
	}
	if !m.API && !m.Page {
		m.API, m.Page = true, true
	}
	e, err := beginModuleEdit(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, have := range e.next.Modules {
		if have.Name == m.Name {
			return nil, nil, fmt.Errorf("module %q already exists (recorded in %s)", m.Name, state.ManifestFile)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(m.Dir()))); err == nil {
		return nil, nil, fmt.Errorf("%s already exists; scaffold add never overwrites: choose another name or move it away", m.Dir())
	}
	e.next.Modules = append(e.next.Modules, m)
	res := &AddResult{Module: m, Dropped: e.dropped}
	if app, err := os.ReadFile(filepath.Join(dir, "web", "app.go")); err == nil && !bytes.Contains(app, []byte("registerModules(")) {
		res.Unregistered = true
	}
	var section []state.Module
	if m.Config {
		section = append(section, m)
	}
	set, configEdited, err := e.commitSet(section, nil, m.Dir())
	if err != nil {
		return nil, nil, err
	}
	res.ConfigEdited = configEdited
	if res.Changes, err = e.plan(set); err != nil {
		return nil, nil, err
	}
	return res, set, nil
}

// moduleEdit is what adding and removing a module share: the record before and after,
// and the modules the user had already deleted by hand (handRemoved).
type moduleEdit struct {
	dir     string
	old     *state.Manifest // as scaffold.yaml holds it
	next    state.Manifest  // the record the edit writes; its Modules and Removed set by the caller
	dropped []string        // module folders the user had deleted, dropped from next
	// droppedConfig are the dropped modules that had a config section.
	droppedConfig []state.Module
}

func beginModuleEdit(dir string) (*moduleEdit, error) {
	man, err := state.LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	e := &moduleEdit{dir: dir, old: man, next: *man}
	e.next.Files = maps.Clone(man.Files)
	e.next.Modules = slices.Clone(man.Modules)
	e.next.Removed = slices.Clone(man.Removed)
	if e.dropped, err = handRemoved(dir, &e.next); err != nil {
		return nil, err
	}
	for _, mod := range man.Modules {
		if mod.Config && slices.Contains(e.dropped, mod.Dir()) {
			e.droppedConfig = append(e.droppedConfig, mod)
		}
	}
	return e, nil
}

// commitSet re-renders the project from e.next (with the version the project records, so
// the files the edit does not touch keep matching their checksums) and returns the set
// one commit writes: the files under folder (an added module's), the regenerated
// web/modules.go and factory/modules.go, config/config.yaml when a section comes (added)
// or goes (removed, or a dropped module's), scaffold.yaml, and the removal of each file
// under the folders gone. An edited web/modules.go or factory/modules.go is refused
// unless the edit is what the re-render writes anyway (a hand-removed module's lines
// taken out). configEdited says the user's config.yaml was edited in place.
func (e *moduleEdit) commitSet(added, removed []state.Module, folder string) (set *generators.FileSet, configEdited bool, err error) {
	ctx, err := Generate(OptionsOf(&e.next, e.old.ScaffoldVersion))
	if err != nil {
		return nil, false, err
	}
	set = generators.NewFileSet()
	// The merge bases follow what scaffold writes; a project without them yet gets them all
	// from its next update (which says so), not a few from here.
	bases, err := hasBases(e.dir)
	if err != nil {
		return nil, false, err
	}
	base := func(p string, data []byte) {
		if bases && hasBase(p) {
			set.Add(basePath(p), data, 0o644)
		}
	}
	take := func(p string, data []byte) {
		set.Add(p, data, 0o644)
		e.next.Files[p] = state.FileChecksum(data)
		base(p, data)
	}
	for _, f := range ctx.Files.Files() {
		if folder != "" && strings.HasPrefix(f.Path, folder+"/") {
			take(f.Path, f.Data)
		}
	}
	for _, p := range []string{ModulesFile, ModulesConfigFile} {
		f, _ := ctx.Files.Get(p)
		disk, err := os.ReadFile(filepath.Join(e.dir, filepath.FromSlash(p)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, false, err
		}
		if err == nil && e.old.Files[p] != "" && state.FileChecksum(disk) != e.old.Files[p] {
			if ok, err := e.editIsRemoval(p, disk); err != nil || !ok {
				if err != nil {
					return nil, false, err
				}
				return nil, false, fmt.Errorf("%s was edited, but scaffold owns it and rewrites it: move your change to web/app.go (or a module), delete %s (`scaffold update` writes it afresh), then run this again", p, p)
			}
		}
		take(p, f.Data)
	}
	removed = append(removed, e.droppedConfig...)
	if len(added) > 0 || slices.ContainsFunc(removed, func(m state.Module) bool { return m.Config }) {
		f, _ := ctx.Files.Get(configYAML)
		disk, err := os.ReadFile(filepath.Join(e.dir, configYAML))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			take(configYAML, f.Data)
		case err != nil:
			return nil, false, err
		case state.FileChecksum(disk) == e.old.Files[configYAML]:
			take(configYAML, f.Data)
		default:
			// The user's file: insert or cut the sections and keep every edit. The checksum
			// recorded is the render's, so `scaffold update` sees an edited file whose
			// template did not change (kept), not a conflict.
			edited := disk
			for _, m := range added {
				if edited, err = insertModuleConfig(edited, m); err != nil {
					return nil, false, fmt.Errorf("%s: %w", configYAML, err)
				}
			}
			for _, m := range removed {
				if m.Config {
					edited = cutModuleConfig(edited, m)
				}
			}
			set.Add(configYAML, edited, 0o644)
			e.next.Files[configYAML] = state.FileChecksum(f.Data)
			base(configYAML, f.Data)
			configEdited = true
		}
	}
	for _, gone := range removedDirs(removed) {
		for p := range e.next.Files {
			if strings.HasPrefix(p, gone+"/") {
				delete(e.next.Files, p)
			}
		}
	}
	for _, m := range removed {
		if err := removeTree(set, e.dir, m.Dir()); err != nil {
			return nil, false, err
		}
	}
	for _, gone := range append(removedDirs(removed), e.dropped...) {
		if err := removeTree(set, e.dir, basePath(gone)); err != nil {
			return nil, false, err
		}
	}
	manifest, err := e.next.Marshal()
	if err != nil {
		return nil, false, err
	}
	set.Add(state.ManifestFile, manifest, 0o644)
	return set, configEdited, nil
}

// editIsRemoval reports whether disk, an edited copy of the scaffold-owned file p, is
// what the record without the hand-removed modules renders: the user took their lines out.
func (e *moduleEdit) editIsRemoval(p string, disk []byte) (bool, error) {
	if len(e.dropped) == 0 {
		return false, nil
	}
	before := *e.old
	before.Modules = slices.DeleteFunc(slices.Clone(e.old.Modules), func(m state.Module) bool { return slices.Contains(e.dropped, m.Dir()) })
	before.Removed = e.next.Removed
	ctx, err := Generate(OptionsOf(&before, e.old.ScaffoldVersion))
	if err != nil {
		return false, err
	}
	f, _ := ctx.Files.Get(p)
	return bytes.Equal(f.Data, disk), nil
}

// plan lists what committing set into e.dir does, by path.
func (e *moduleEdit) plan(set *generators.FileSet) ([]AddChange, error) {
	changes, err := state.Plan(set, e.dir)
	if err != nil {
		return nil, err
	}
	var out []AddChange
	for i, f := range set.Files() {
		if !strings.HasPrefix(f.Path, BaseDir+"/") { // bookkeeping, as scaffold.yaml's checksums
			out = append(out, AddChange{Path: f.Path, Change: changes[i]})
		}
	}
	for _, p := range set.Removals() {
		if !strings.HasPrefix(p, BaseDir+"/") {
			out = append(out, AddChange{Path: p, Change: state.Delete})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

func removedDirs(mods []state.Module) []string {
	var out []string
	for _, m := range mods {
		out = append(out, m.Dir())
	}
	return out
}

// removeTree adds to set the removal of every file under folder in dir.
func removeTree(set *generators.FileSet, dir, folder string) error {
	root := filepath.Join(dir, filepath.FromSlash(folder))
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		set.Remove(filepath.ToSlash(rel))
		return nil
	})
}

var (
	modulesKey    = regexp.MustCompile(`(?m)^modules:[ \t]*(#.*)?$`)
	anyModulesKey = regexp.MustCompile(`(?m)^modules:`)
)

// insertModuleConfig adds m's section to a config.yaml the user edited: under its
// top-level modules: key, or as a new modules: key at the end.
func insertModuleConfig(data []byte, m state.Module) ([]byte, error) {
	loc := modulesKey.FindIndex(data)
	if loc == nil && anyModulesKey.Match(data) {
		return nil, fmt.Errorf("its modules: key is not a block mapping (one section per line below it); write it so, and scaffold can add %q", m.Name)
	}
	if loc == nil {
		out := bytes.TrimRight(data, "\n")
		out = append(out, "\n\nmodules:\n"...)
		return append(out, m.ConfigYAML()+"\n"...), nil
	}
	// After the last indented line of the block: sections stay in the order they were added.
	at := loc[1]
	for at < len(data) && data[at] == '\n' {
		rest := data[at+1:]
		line, _, _ := bytes.Cut(rest, []byte("\n"))
		if len(bytes.TrimSpace(line)) > 0 && line[0] != ' ' && line[0] != '\t' {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			// A blank line ends the block only if nothing indented follows it.
			next := bytes.TrimLeft(rest, "\n")
			if len(next) == 0 || (next[0] != ' ' && next[0] != '\t') {
				break
			}
		}
		at += 1 + len(line)
	}
	if regexp.MustCompile(`(?m)^[ \t]+` + m.Name + `:`).Match(data[loc[1]:at]) {
		return nil, fmt.Errorf("modules: already has a section %q; remove it or choose another module name", m.Name)
	}
	var out []byte
	out = append(out, data[:at]...)
	out = append(out, "\n"+m.ConfigYAML()...)
	if at == len(data) {
		out = append(out, '\n')
	}
	return append(out, data[at:]...), nil
}
