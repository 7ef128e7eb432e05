// Package runtime carries the source of the prefork runtime (runtime/prefork) and of the
// configuration engine (runtime/appconfig) inside the scaffold binary, so `scaffold new`,
// `scaffold update` and `scaffold vendor` copy them into projects without the network.
package runtime

import (
	"bytes"
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed prefork/*.go appconfig/*.go
var source embed.FS

// Dir is where the runtime goes inside a generated project.
const Dir = "internal/prefork"

// ConfigDir is where the configuration engine goes inside a generated project.
const ConfigDir = "internal/appconfig"

// Files returns the runtime's Go files, tests left out, by file name.
func Files() map[string][]byte { return sources("prefork") }

// ConfigFiles returns the configuration engine's Go files, tests left out, by file name,
// importing the runtime as the project module's internal/prefork.
func ConfigFiles(module string) map[string][]byte {
	files := sources("appconfig")
	for name, data := range files {
		files[name] = bytes.ReplaceAll(data, []byte(`"github.com/scaffoldgo/scaffold/runtime/prefork"`), []byte(`"`+module+"/"+Dir+`"`))
	}
	return files
}

func sources(pkg string) map[string][]byte {
	entries, err := fs.ReadDir(source, pkg)
	if err != nil {
		panic("runtime: embedded source missing: " + err.Error())
	}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := fs.ReadFile(source, pkg+"/"+name)
		if err != nil {
			panic("runtime: " + err.Error())
		}
		files[name] = data
	}
	return files
}

// Names returns the runtime's file names, sorted.
func Names() []string {
	var names []string
	for n := range Files() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
