package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
)

// Files scaffold owns outright: regenerated on every add and update, never to be edited.
const (
	ModulesFile       = "web/modules.go"
	ModulesConfigFile = "factory/modules.go"
	configYAML        = "config/config.yaml"
)

// AddResult says what AddModule wrote (or, dry, would write).
type AddResult struct {
	Module  Module
	Changes []AddChange
	// ConfigEdited means config.yaml had the user's edits, so the module's section was
	// inserted into their file rather than the file re-rendered.
	ConfigEdited bool
	// Unregistered means web/app.go does not call registerModules (an update's conflict
	// not merged yet), so no module of web/modules.go is served.
	Unregistered bool
}

// AddChange is one file AddModule writes.
type AddChange struct {
	Path   string
	Change generators.Change
}

// AddModule adds module m to the project in dir: web/NAME/ (new files only), the
// regenerated web/modules.go and factory/modules.go, with m.Config its section in
// config/config.yaml, and m recorded in scaffold.yaml so `scaffold update` re-renders it.
// It refuses a bad or taken name, an edited scaffold-owned file and a project from
// before modules, and writes everything in one atomic commit; dryRun writes nothing.
func AddModule(dir string, m Module, dryRun bool) (*AddResult, error) {
	if err := ValidateModuleName(m.Name); err != nil {
		return nil, err
	}
	if !m.API && !m.Page {
		m.API, m.Page = true, true
	}
	man, err := LoadManifest(dir)
	if err != nil {
		return nil, err
	}
	if _, ok := man.Files[ModulesFile]; !ok {
		return nil, fmt.Errorf("%s does not record %s: the project predates `scaffold add`; run `scaffold update` first (and merge web/app.go if it reports a conflict)", ManifestFile, ModulesFile)
	}
	for _, have := range man.Modules {
		if have.Name == m.Name {
			return nil, fmt.Errorf("module %q already exists (recorded in %s)", m.Name, ManifestFile)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(m.Dir()))); err == nil {
		return nil, fmt.Errorf("%s already exists; scaffold add never overwrites: choose another name or move it away", m.Dir())
	}
	// Re-render with the version the project records, so the files this add does not
	// touch keep matching their checksums; `scaffold update` moves to newer templates.
	ctx, err := Generate(Options{Name: man.Name, Module: man.Module, Port: man.Answers.Port, Workers: man.Answers.Workers,
		Version: man.ScaffoldVersion, Modules: append(append([]Module(nil), man.Modules...), m)})
	if err != nil {
		return nil, err
	}
	res := &AddResult{Module: m}
	if app, err := os.ReadFile(filepath.Join(dir, "web", "app.go")); err == nil && !bytes.Contains(app, []byte("registerModules(")) {
		res.Unregistered = true
	}
	set := generators.NewFileSet()
	next := *man
	next.Modules = ctx.Options.Modules
	next.Files = map[string]string{}
	for p, sum := range man.Files {
		next.Files[p] = sum
	}
	take := func(p string, data []byte) {
		set.Add(p, data, 0o644)
		next.Files[p] = FileChecksum(data)
	}
	for _, f := range ctx.Files.Files() {
		if strings.HasPrefix(f.Path, m.Dir()+"/") {
			take(f.Path, f.Data)
		}
	}
	for _, p := range []string{ModulesFile, ModulesConfigFile} {
		f, _ := ctx.Files.Get(p)
		disk, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if err == nil && man.Files[p] != "" && FileChecksum(disk) != man.Files[p] {
			return nil, fmt.Errorf("%s was edited, but scaffold owns it and rewrites it: move your change to web/app.go (or a module), delete %s (`scaffold update` writes it afresh), then add the module", p, p)
		}
		take(p, f.Data)
	}
	if m.Config {
		f, _ := ctx.Files.Get(configYAML)
		disk, err := os.ReadFile(filepath.Join(dir, configYAML))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			take(configYAML, f.Data)
		case err != nil:
			return nil, err
		case FileChecksum(disk) == man.Files[configYAML]:
			take(configYAML, f.Data)
		default:
			// The user's file: insert the section and keep every edit. The checksum recorded is
			// the render's, so `scaffold update` sees an edited file whose template did not
			// change (kept), not a conflict.
			edited, err := insertModuleConfig(disk, m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", configYAML, err)
			}
			set.Add(configYAML, edited, 0o644)
			next.Files[configYAML] = FileChecksum(f.Data)
			res.ConfigEdited = true
		}
	}
	manifest, err := next.Marshal()
	if err != nil {
		return nil, err
	}
	set.Add(ManifestFile, manifest, 0o644)
	changes, err := set.Plan(dir)
	if err != nil {
		return nil, err
	}
	for i, f := range set.Files() {
		res.Changes = append(res.Changes, AddChange{Path: f.Path, Change: changes[i]})
	}
	sort.Slice(res.Changes, func(i, j int) bool { return res.Changes[i].Path < res.Changes[j].Path })
	if dryRun {
		return res, nil
	}
	if err := set.Commit(dir, true); err != nil {
		return nil, fmt.Errorf("writing into %s: %w (nothing was changed)", dir, err)
	}
	return res, nil
}

var (
	modulesKey    = regexp.MustCompile(`(?m)^modules:[ \t]*(#.*)?$`)
	anyModulesKey = regexp.MustCompile(`(?m)^modules:`)
)

// insertModuleConfig adds m's section to a config.yaml the user edited: under its
// top-level modules: key, or as a new modules: key at the end.
func insertModuleConfig(data []byte, m Module) ([]byte, error) {
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
