// Package runtime carries the source of the prefork runtime (runtime/prefork) inside the
// scaffold binary, so `scaffold new` and `scaffold vendor` copy it into projects without
// the network.
package runtime

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed prefork/*.go
var source embed.FS

// Dir is where the runtime goes inside a generated project.
const Dir = "internal/prefork"

// Files returns the runtime's Go files, tests left out, by file name.
func Files() map[string][]byte {
	entries, err := fs.ReadDir(source, "prefork")
	if err != nil {
		panic("runtime: embedded source missing: " + err.Error())
	}
	files := map[string][]byte{}
	for _, e := range entries {
		name := e.Name()
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		data, err := fs.ReadFile(source, "prefork/"+name)
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
