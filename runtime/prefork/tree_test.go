package prefork

import (
	"bytes"
	"cmp"
	"go/parser"
	gotoken "go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The runtime is a tree of packages, each a room with its doors listed here: a package
// may import only the packages of the tree named in its row (the standard library
// aside). Lower rooms never reach back up.
var treeImports = map[string][]string{
	".":                   {"internal/master", "internal/supervisor", "internal/serving", "internal/observe", "internal/settings"},
	"internal/master":     {"internal/supervisor", "internal/serving", "internal/observe", "internal/settings"},
	"internal/serving":    {"internal/observe", "internal/settings"},
	"internal/observe":    {"internal/supervisor", "internal/settings"},
	"internal/supervisor": {},
	"internal/settings":   {},
	"internal/rawhttp":    {}, // the tests' raw HTTP/1 exchanges; only tests import it
}

// osOnly are the standard packages that reach processes, signals and sockets, which the
// supervisor's policy must not touch: the shell does that.
var osOnly = []string{"os/exec", "syscall", "net", "os/signal"}

// treePackages parses the tree's non-test Go files, by package folder (slash-separated,
// relative to runtime/prefork): each file's imports.
func treePackages(t *testing.T) map[string]map[string][]string {
	t.Helper()
	pkgs := map[string]map[string][]string{}
	fset := gotoken.NewFileSet()
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(p))
		if pkgs[dir] == nil {
			pkgs[dir] = map[string][]string{}
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			pkgs[dir][filepath.ToSlash(p)] = append(pkgs[dir][filepath.ToSlash(p)], ip)
		}
		if _, ok := pkgs[dir][filepath.ToSlash(p)]; !ok {
			pkgs[dir][filepath.ToSlash(p)] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func TestTreeImportDirections(t *testing.T) {
	const self = "github.com/scaffoldgo/scaffold/runtime/prefork"
	for dir, files := range treePackages(t) {
		allowed, ok := treeImports[dir]
		if !ok {
			t.Errorf("runtime/prefork/%s is not in treeImports: give the new package its row (what it may import)", dir)
			continue
		}
		for file, imports := range files {
			for _, ip := range imports {
				if ip != self && !strings.HasPrefix(ip, self+"/") {
					continue
				}
				to := strings.TrimPrefix(strings.TrimPrefix(ip, self), "/")
				if to == "" {
					to = "."
				}
				if !slices.Contains(allowed, to) {
					t.Errorf("%s imports %s: the edge %s -> %s is not allowed (allowed: %v)", file, ip, dir, to, allowed)
				}
			}
		}
	}
}

func TestSupervisorReachesNoProcessSignalOrSocket(t *testing.T) {
	files := treePackages(t)["internal/supervisor"]
	if len(files) == 0 {
		t.Fatal("no Go files in runtime/prefork/internal/supervisor")
	}
	for file, imports := range files {
		for _, ip := range imports {
			if slices.Contains(osOnly, ip) {
				t.Errorf("%s imports %s: the supervisor is pure policy, the shell reaches the OS", file, ip)
			}
		}
	}
}

// maxFileLines bounds a Go file of the runtime, tests included: past it, split the file
// by what it holds.
const maxFileLines = 500

func TestNoRuntimeFileIsOverLong(t *testing.T) {
	for _, root := range []string{".", "../appconfig"} { // the vendored runtime: this tree and the config engine
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() && d.Name() == "testdata" {
				return cmp.Or(err, filepath.SkipDir)
			}
			if d.IsDir() || !strings.HasSuffix(p, ".go") {
				return nil
			}
			data, err := os.ReadFile(p)
			if n := bytes.Count(data, []byte("\n")); n > maxFileLines {
				t.Errorf("%s has %d lines, over %d: split it by what it holds", filepath.ToSlash(p), n, maxFileLines)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Every package of the tree says what it is for.
func TestTreePackagesHaveDocComments(t *testing.T) {
	fset := gotoken.NewFileSet()
	for dir, files := range treePackages(t) {
		documented := false
		var name string
		for file := range files {
			f, err := parser.ParseFile(fset, filepath.FromSlash(file), nil, parser.PackageClauseOnly|parser.ParseComments)
			if err != nil {
				t.Fatal(err)
			}
			name = f.Name.Name
			documented = documented || f.Doc != nil && strings.HasPrefix(f.Doc.Text(), "Package "+name+" ")
		}
		if !documented {
			t.Errorf("runtime/prefork/%s: package %s has no doc comment (// Package %s ...)", dir, name, name)
		}
	}
}
