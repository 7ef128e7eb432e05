// Package runtime carries the source of the prefork runtime (runtime/prefork and the
// packages under it) and of the configuration engine (runtime/appconfig) inside the
// scaffold binary, so `scaffold new`, `scaffold update` and `scaffold vendor` copy them
// into projects without the network.
package runtime

import (
	"bytes"
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// The whole runtime tree: embed takes a directory recursively (files beginning with . or
// _ left out, as Go leaves them out of a build); testdata and tests are dropped below.
//
//go:embed prefork appconfig
var source embed.FS

// Dir is where the runtime goes inside a generated project.
const Dir = "internal/prefork"

// ConfigDir is where the configuration engine goes inside a generated project.
const ConfigDir = "internal/appconfig"

// ImportPath is the runtime's import path in scaffold's repository; every package of the
// tree lies under it.
const ImportPath = "github.com/scaffoldgo/scaffold/runtime/prefork"

// Files returns the runtime tree's Go files, tests left out, by slash-separated path
// relative to the tree (doc.go, internal/supervisor/supervisor.go), importing its own
// packages as the project module's internal/prefork/...
func Files(module string) map[string][]byte { return sources("prefork", module) }

// ConfigFiles returns the configuration engine's Go files, tests left out, by file name,
// importing the runtime as the project module's internal/prefork.
func ConfigFiles(module string) map[string][]byte { return sources("appconfig", module) }

// Rewrite turns the runtime's imports in a Go file, ImportPath and every package under
// it, into module's vendored copy (module/internal/prefork/...).
func Rewrite(data []byte, module string) []byte {
	data = bytes.ReplaceAll(data, []byte(`"`+ImportPath+`"`), []byte(`"`+module+"/"+Dir+`"`))
	return bytes.ReplaceAll(data, []byte(`"`+ImportPath+`/`), []byte(`"`+module+"/"+Dir+`/`))
}

func sources(root, module string) map[string][]byte {
	files := map[string][]byte{}
	err := fs.WalkDir(source, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == "testdata" {
				return fs.SkipDir
			}
			return nil
		}
		if path.Ext(p) != ".go" || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		data, err := fs.ReadFile(source, p)
		if err != nil {
			return err
		}
		files[strings.TrimPrefix(p, root+"/")] = Rewrite(data, module)
		return nil
	})
	if err != nil {
		panic("runtime: embedded source missing: " + err.Error())
	}
	return files
}

// Names returns the runtime's file paths relative to the tree, sorted.
func Names() []string {
	var names []string
	for n := range Files("example.com/m") {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
