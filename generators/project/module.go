package project

import (
	"bytes"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/templates"
)

var moduleNameRule = regexp.MustCompile(`^[a-z][a-z0-9]*$`)

// ModuleNameRule is the rule a module name must follow, as shown in errors.
const ModuleNameRule = "lowercase letters and digits, starting with a letter, at most 32 characters (it is a Go package name and a URL path segment)"

// moduleReserved are the names the generated project already uses under web/ or that
// its code imports, and Go's keywords and predeclared names that cannot name a package.
var moduleReserved = map[string]string{
	"home": "the sample module", "static": "web/static, the static files", "templates": "web's own templates",
	"httpjson": "the JSON toolkit in web/httpjson", "api": "the /api/ prefix of every JSON route",
	"web": "the application package", "factory": "the config factory", "healthz": "the health check route", "layout": "web/layout, the pages' shared layout",
	"break": "a Go keyword", "case": "a Go keyword", "chan": "a Go keyword", "const": "a Go keyword", "continue": "a Go keyword",
	"default": "a Go keyword", "defer": "a Go keyword", "else": "a Go keyword", "fallthrough": "a Go keyword", "for": "a Go keyword",
	"func": "a Go keyword", "goto": "a Go keyword", "if": "a Go keyword", "import": "a Go keyword", "interface": "a Go keyword",
	"map": "a Go keyword", "package": "a Go keyword", "range": "a Go keyword", "return": "a Go keyword", "select": "a Go keyword",
	"struct": "a Go keyword", "switch": "a Go keyword", "type": "a Go keyword", "var": "a Go keyword",
	"string": "a predeclared Go name", "error": "a predeclared Go name", "len": "a predeclared Go name", "nil": "a predeclared Go name",
	"true": "a predeclared Go name", "false": "a predeclared Go name", "any": "a predeclared Go name",
	// Identifiers web/modules.go and factory/modules.go use: a package of that name would collide.
	"slog": "a package web/modules.go imports", "http": "a package web/modules.go imports",
	"mux": "a name web/modules.go uses", "cfg": "a name web/modules.go uses", "logger": "a name web/modules.go uses",
	"site": "a name web/modules.go uses", "navigation": "a name web/modules.go uses",
	"check": "a name factory/modules.go uses", "within": "a name factory/modules.go uses", "m": "a name factory/modules.go uses",
}

// ValidateModuleName checks a module name; the error states the rule.
func ValidateModuleName(name string) error {
	if name == "" {
		return fmt.Errorf("module name is empty: use %s", ModuleNameRule)
	}
	if len(name) > state.MaxNameLen || !moduleNameRule.MatchString(name) {
		if s := suggestModuleName(name); s != "" {
			return fmt.Errorf("module name %q is not allowed: use %s; did you mean %q?", name, ModuleNameRule, s)
		}
		return fmt.Errorf("module name %q is not allowed: use %s", name, ModuleNameRule)
	}
	why, ok := moduleReserved[name]
	if !ok {
		why, ok = state.Reserved(name)
	}
	if ok {
		return fmt.Errorf("module name %q is reserved (%s); choose another", name, why)
	}
	return nil
}

// ConfigModules are the modules with a config section, for the templates.
func (d Data) ConfigModules() []state.Module {
	var out []state.Module
	for _, m := range d.Modules {
		if m.Config {
			out = append(out, m)
		}
	}
	return out
}

// moduleData is what a module's templates see: the project's data and the module.
type moduleData struct {
	Data
	M state.Module
}

// moduleFiles lists a module's files: template in templates/module -> path in web/NAME.
func moduleFiles(m state.Module) map[string]string {
	files := map[string]string{
		"module.go.tmpl":      m.Name + ".go",
		"module_test.go.tmpl": m.Name + "_test.go",
	}
	if m.Page {
		files["templates/index.html"] = "templates/index.html"
	}
	if m.Config {
		files["config.go.tmpl"] = "config.go"
	}
	return files
}

// renderModules renders web/NAME/ for each module recorded in the answers.
func renderModules(c *Context) error {
	seen := map[string]bool{}
	for _, m := range c.Options.Modules {
		if err := ValidateModuleName(m.Name); err != nil {
			return err
		}
		if seen[m.Name] {
			return fmt.Errorf("module %q is listed twice", m.Name)
		}
		seen[m.Name] = true
		if !m.API && !m.Page {
			return fmt.Errorf("module %q has neither a page nor an API", m.Name)
		}
		for src, dst := range moduleFiles(m) {
			raw, err := fs.ReadFile(templates.Module, "module/"+src)
			if err != nil {
				return err
			}
			if strings.HasSuffix(src, ".tmpl") {
				t, err := generators.NewTemplate(src).Parse(string(raw))
				if err != nil {
					return fmt.Errorf("template module/%s: %w", src, err)
				}
				var buf bytes.Buffer
				if err := t.Execute(&buf, moduleData{Data: c.Data, M: m}); err != nil {
					return fmt.Errorf("template module/%s: %w", src, err)
				}
				raw = buf.Bytes()
			}
			c.Files.Add(m.Dir()+"/"+dst, raw, 0o644)
		}
	}
	return nil
}
