package state

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/mod/module"
)

var nameRule = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// MaxNameLen keeps names usable as unix user names, socket file names and package names.
const MaxNameLen = 32

// NameRule is the rule a project name must follow, as shown in errors.
const NameRule = "lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen, at most 32 characters"

// reservedNames break Go tooling or shadow the standard library when used as a module
// path or binary name (go-blueprint crashed on `go`).
var reservedNames = map[string]string{
	"go": "the go command", "gofmt": "the gofmt command", "test": "go test's package name", "main": "Go's program package",
	"internal": "Go's internal-package rule", "vendor": "Go's vendor folder", "testdata": "ignored by the Go tool",
	"std": "a Go package pattern", "cmd": "a Go package pattern", "all": "a Go package pattern", "tool": "a Go package pattern",
	"work": "a Go package pattern", "toolchain": "the go.mod toolchain directive", "scaffold": "this tool",
	"builtin": "the standard library", "unsafe": "the standard library", "c": "cgo's pseudo-package",
}

// stdRoots are the standard library's top-level import paths (a test keeps this in step
// with `go list std`).
var stdRoots = strings.Fields(`archive bufio bytes cmp compress container context crypto database debug embed
encoding errors expvar flag fmt go hash html image index io iter log maps math mime net os path plugin
reflect regexp runtime slices sort strconv strings structs sync syscall testing text time unicode unique
unsafe weak`)

// Reserved says why name cannot name a Go package or binary of a project: a name Go's
// tooling gives a meaning, or a standard library root it would shadow.
func Reserved(name string) (why string, ok bool) {
	if why, ok := reservedNames[name]; ok {
		return why, true
	}
	if slices.Contains(stdRoots, name) {
		return "a standard library package, which it would shadow", true
	}
	return "", false
}

// ValidateName checks a project name; the error states the rule.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("project name is empty: use %s", NameRule)
	}
	if len(name) > MaxNameLen || !nameRule.MatchString(name) {
		return fmt.Errorf("project name %q is not allowed: use %s", name, NameRule)
	}
	if why, ok := reservedNames[name]; ok {
		return fmt.Errorf("project name %q is reserved (%s); choose another, such as %q", name, why, name+"-app")
	}
	for _, s := range stdRoots {
		if name == s {
			return fmt.Errorf("project name %q is a standard library package and would shadow it; choose another, such as %q", name, name+"-app")
		}
	}
	return nil
}

// ValidateModule checks a Go module path.
func ValidateModule(path string) error {
	if path == "" {
		return fmt.Errorf("module path is empty")
	}
	if err := module.CheckImportPath(path); err != nil {
		return fmt.Errorf("module path %q is not valid: %v", path, err)
	}
	first, _, _ := strings.Cut(path, "/")
	if !strings.Contains(first, ".") {
		for _, s := range stdRoots {
			if first == s {
				return fmt.Errorf("module path %q starts with %q, a standard library package; use a domain-style path such as example.com/%s", path, first, path)
			}
		}
		if _, ok := reservedNames[first]; ok && first != "scaffold" {
			return fmt.Errorf("module path %q starts with the reserved name %q", path, first)
		}
	}
	return nil
}

// ValidatePort checks a TCP port number.
func ValidatePort(port int) error {
	if port < 1 || port > 65535 {
		return fmt.Errorf("port %d is out of range: use 1 to 65535", port)
	}
	return nil
}

// ValidateWorkers checks a worker count.
func ValidateWorkers(n int) error {
	if n < 1 || n > 1024 {
		return fmt.Errorf("workers %d is out of range: use 1 to 1024", n)
	}
	return nil
}

// Databases are the values of `scaffold new --db`, the default first.
var Databases = []string{DatabaseNone, DatabaseSQLite, DatabasePostgres}

// The databases a project can be generated with.
const (
	DatabaseNone     = "none"
	DatabaseSQLite   = "sqlite"
	DatabasePostgres = "postgres"
)

// ValidateDatabase checks a --db value.
func ValidateDatabase(db string) error {
	for _, d := range Databases {
		if db == d {
			return nil
		}
	}
	return fmt.Errorf("database %q is not supported: use none, sqlite (embedded, pure Go) or postgres (pgx)", db)
}
