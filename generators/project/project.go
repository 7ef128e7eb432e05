// Package project generates a Go service in the documented layout (`scaffold new`) and
// re-vendors its prefork runtime (`scaffold vendor`).
package project

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	scaffold "github.com/scaffoldgo/scaffold"
	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/runtime"
	"github.com/scaffoldgo/scaffold/templates"
)

// ScaffoldModule is this tool's module path, named in generated READMEs.
const ScaffoldModule = "github.com/scaffoldgo/scaffold"

// Defaults for the answers of `scaffold new`.
const (
	DefaultPort    = 8000
	DefaultWorkers = 2
)

// Options are the answers a project is generated from.
type Options struct {
	Name    string
	Module  string // defaults to Name
	Port    int
	Workers int
	// Database is none (the default), sqlite or postgres: with one, the project gets
	// factory/db.go, db/migrations/, the `migrate` subcommand and the web/notes module.
	Database string
	// Maintainer is the packages' maintainer, "Name <email>" (MaintainerRule); defaults to
	// PlaceholderMaintainer.
	Maintainer string
	Version    string         // scaffold's version, written into headers and the manifest
	Modules    []state.Module // added by `scaffold add module`, in order
	// Removed are the generated files and folders the user deleted (state.Manifest.Removed):
	// not rendered, and a removed sample module is not registered.
	Removed []string
}

// OptionsOf are the answers m records, for re-rendering the project with the given
// scaffold version (update, add module, remove module).
func OptionsOf(m *state.Manifest, version string) Options {
	return Options{Name: m.Name, Module: m.Module, Port: m.Answers.Port, Workers: m.Answers.Workers, Database: m.Answers.Database, Maintainer: m.Answers.Maintainer,
		Version: version, Modules: append([]state.Module(nil), m.Modules...), Removed: append([]string(nil), m.Removed...)}
}

// Data is what the templates see.
type Data struct {
	Options
	ScaffoldModule  string
	ScaffoldVersion string
	GoVersion       string // the go directive, from scaffold's own go.mod
	// Requires are go.mod's require blocks: every project's modules (moddeps.go), with
	// its database's.
	Requires *Requirements
	// DB is the database's dependencies when Database is not none (nil otherwise), so
	// templates test {{if .DB}}.
	DB *DBData
	// Package is the package format a maintainer script is rendered for: rpm for the
	// tree's packaging/*.sh, deb for packaging/deb/ (debScripts).
	Package string
}

// Static is how the project's web/layout names and caches static files (fingerprint
// length, Cache-Control), as deploy-config's nginx site does.
func (Data) Static() templates.StaticFiles { return templates.Static }

// APIPrefix is where the project's JSON API lives (web/httpjson), as deploy-config's nginx
// site knows it.
func (Data) APIPrefix() string { return templates.APIPrefix }

// Owners are the owners of a project's files (the README's layout table names them).
func (Data) Owners() []Owner { return Owners }

// Context carries what each step produced to the next.
type Context struct {
	Options  Options
	Data     Data
	Files    *generators.FileSet
	Manifest state.Manifest
}

// projectTree is the project's template tree; a test renders from an edited copy to
// stand for an older scaffold (the base of a three-way update).
var projectTree fs.FS = templates.Project

// Steps is the generation pipeline, in order.
func Steps() []generators.Step[*Context] {
	return []generators.Step[*Context]{
		// Refuse bad answers before any work, with the rule in the message.
		generators.StepFunc[*Context]{Name: "validate", Fn: validate},
		// Pin the Go version and dependency versions scaffold itself was built with.
		generators.StepFunc[*Context]{Name: "versions", Fn: versions},
		// The project tree: config, factory, web, entries, tests, Makefile, README.
		generators.StepFunc[*Context]{Name: "templates", Fn: renderTemplates},
		// The .deb's maintainer scripts: the same templates, with systemd handled the
		// Debian way (deb-systemd-helper), as lintian asks.
		generators.StepFunc[*Context]{Name: "deb scripts", Fn: debScripts},
		// web/NAME/ for each module added by `scaffold add module` (web/modules.go, from the
		// project templates, registers them).
		generators.StepFunc[*Context]{Name: "modules", Fn: renderModules},
		// go.sum lines for the pinned dependencies, taken from scaffold's own go.sum.
		generators.StepFunc[*Context]{Name: "go.sum", Fn: goSum},
		// gofmt the rendered Go files: a template mistake fails here, not in the user's build.
		generators.StepFunc[*Context]{Name: "gofmt", Fn: func(c *Context) error { return c.Files.FormatGo() }},
		// The runtime comes from this binary, so generation never needs the network; it is
		// already gofmt'd (a test checks), so it is added after formatting.
		generators.StepFunc[*Context]{Name: "runtime", Fn: vendorRuntime},
		// What the user removed stays removed (scaffold.yaml's removed:), whichever step wrote it.
		generators.StepFunc[*Context]{Name: "removed", Fn: dropRemoved},
		// scaffold.yaml records the answers, the runtime's files for `scaffold vendor` and
		// each file's checksum for `scaffold update`; it must stay the last step.
		generators.StepFunc[*Context]{Name: "manifest", Fn: writeManifest},
	}
}

// Generate renders the project for opts into a file set; nothing touches the disk.
func Generate(opts Options) (*Context, error) {
	ctx := &Context{Options: opts, Files: generators.NewFileSet()}
	if err := generators.Run(ctx, Steps()); err != nil {
		return nil, err
	}
	return ctx, nil
}

func validate(c *Context) error {
	o := &c.Options
	if o.Module == "" {
		o.Module = o.Name
	}
	if o.Port == 0 {
		o.Port = DefaultPort
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Version == "" {
		o.Version = "dev"
	}
	if o.Database == "" {
		o.Database = state.DatabaseNone
	}
	if o.Maintainer == "" {
		o.Maintainer = PlaceholderMaintainer
	}
	maintainer, err := ValidateMaintainer(o.Maintainer)
	if err != nil {
		return err
	}
	o.Maintainer = maintainer
	for _, err := range []error{state.ValidateName(o.Name), state.ValidateModule(o.Module), state.ValidatePort(o.Port), state.ValidateWorkers(o.Workers), state.ValidateDatabase(o.Database)} {
		if err != nil {
			return err
		}
	}
	return nil
}

func versions(c *Context) error {
	goVersion, deps := parseGoMod(scaffold.GoMod)
	if goVersion == "" {
		return fmt.Errorf("scaffold's embedded go.mod lacks the go directive")
	}
	requires, err := projectRequirements(c.Options.Database, deps)
	if err != nil {
		return err
	}
	c.Data = Data{Options: c.Options, ScaffoldModule: ScaffoldModule, ScaffoldVersion: c.Options.Version, GoVersion: goVersion, Requires: requires, Package: "rpm"}
	if d := c.Options.Database; d != state.DatabaseNone {
		c.Data.DB = &DBData{Driver: d, SQLite: d == state.DatabaseSQLite, Postgres: d == state.DatabasePostgres}
	}
	return nil
}

func renderTemplates(c *Context) error {
	if err := c.Files.RenderTree(projectTree, "project", c.Data); err != nil {
		return err
	}
	if c.Data.DB == nil {
		return nil
	}
	// The database's own files: the pool factory, migrations, the notes module.
	return c.Files.RenderTree(templates.ProjectDB, "projectdb", c.Data)
}

// debScripts are the package's maintainer scripts by their name in packaging/ and in
// packaging/deb/ (dpkg's names).
func debScripts(c *Context) error {
	data := c.Data
	data.Package = "deb"
	for _, s := range [][2]string{{"postinstall.sh", "postinst"}, {"preremove.sh", "prerm"}, {"postremove.sh", "postrm"}} {
		src := "project/packaging/" + s[0] + ".tmpl"
		raw, err := fs.ReadFile(projectTree, src)
		if err != nil {
			return err
		}
		t, err := generators.NewTemplate(s[1]).Parse(string(raw))
		if err != nil {
			return fmt.Errorf("template %s: %w", src, err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return fmt.Errorf("template %s: %w", src, err)
		}
		c.Files.Add("packaging/deb/"+s[1], buf.Bytes(), 0o644)
	}
	return nil
}

// RuntimeHeader is the first lines of every vendored runtime file.
func RuntimeHeader(version string) string {
	return fmt.Sprintf("// Code generated by scaffold %s from runtime/prefork; DO NOT EDIT.\n// `scaffold vendor` and `scaffold update --runtime` replace this tree whole; `scaffold update` rewrites it (vendored: see the README's layout table).\n\n", version)
}

// ConfigHeader is the first lines of every vendored configuration engine file.
func ConfigHeader(version string) string { return vendoredHeader(version, "runtime/appconfig") }

// vendoredHeader is the head of a vendored file (Vendored): GeneratedMarker, its source in
// scaffold's repository and the commands that rewrite it.
func vendoredHeader(version, source string) string {
	return fmt.Sprintf("// Code generated by scaffold %s from %s; DO NOT EDIT.\n// `scaffold update` and `scaffold vendor` rewrite it (vendored: see the README's layout table).\n\n", version, source)
}

// ConfigFiles returns the configuration engine's files as vendored into module by the
// given scaffold version.
func ConfigFiles(module, version string) map[string][]byte {
	out := map[string][]byte{}
	for name, data := range runtime.ConfigFiles(module) {
		out[name] = append([]byte(ConfigHeader(version)), data...)
	}
	return out
}

// RuntimeFiles returns the runtime tree's files as vendored into module by the given
// scaffold version, by path relative to the tree (internal/supervisor/supervisor.go).
func RuntimeFiles(module, version string) map[string][]byte {
	out := map[string][]byte{}
	for name, data := range runtime.Files(module) {
		out[name] = append([]byte(RuntimeHeader(version)), data...)
	}
	return out
}

func vendorRuntime(c *Context) error {
	files := RuntimeFiles(c.Options.Module, c.Options.Version)
	if len(files) == 0 {
		return fmt.Errorf("the embedded runtime is empty")
	}
	for name, data := range files {
		c.Files.Add(runtime.Dir+"/"+name, data, 0o644)
	}
	// The configuration engine the factory loads config/ with, vendored the same way.
	for name, data := range ConfigFiles(c.Options.Module, c.Options.Version) {
		c.Files.Add(runtime.ConfigDir+"/"+name, data, 0o644)
	}
	// Each file's checksum goes in the manifest's files map, the one record (writeManifest).
	c.Manifest.Runtime = state.Runtime{Dir: runtime.Dir, Version: c.Options.Version, Files: runtime.Names()}
	return nil
}

func goSum(c *Context) error {
	sum, err := c.Data.Requires.goSum()
	if err != nil {
		return err
	}
	c.Files.Add("go.sum", sum, 0o644)
	return nil
}

func writeManifest(c *Context) error {
	c.Manifest.Header = manifestHeader()
	c.Manifest.ScaffoldVersion = c.Options.Version
	c.Manifest.Name = c.Options.Name
	c.Manifest.Module = c.Options.Module
	c.Manifest.Answers = state.Answers{Port: c.Options.Port, Workers: c.Options.Workers, Maintainer: c.Options.Maintainer}
	if c.Options.Database != state.DatabaseNone {
		c.Manifest.Answers.Database = c.Options.Database
	}
	c.Manifest.Modules = c.Options.Modules
	c.Manifest.Removed = slices.Compact(slices.Sorted(slices.Values(c.Options.Removed)))
	c.Manifest.Files = map[string]string{}
	for _, f := range c.Files.Files() {
		if f.Path != state.ManifestFile {
			c.Manifest.Files[f.Path] = state.FileChecksum(f.Data)
		}
	}
	data, err := c.Manifest.Marshal()
	if err != nil {
		return err
	}
	c.Files.Add(state.ManifestFile, data, 0o644)
	return nil
}

// parseGoMod returns the go directive and the required module versions.
func parseGoMod(data []byte) (goVersion string, deps map[string]string) {
	deps = map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "require "))
		switch {
		case len(f) == 2 && f[0] == "go":
			goVersion = f[1]
		case len(f) >= 2 && strings.Contains(f[0], ".") && strings.HasPrefix(f[1], "v"):
			deps[f[0]] = f[1]
		}
	}
	return goVersion, deps
}
