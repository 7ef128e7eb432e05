// Package build holds the values goreleaser injects at release time with -ldflags -X.
package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"maps"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime"
	"github.com/scaffoldgo/scaffold/templates"
)

// Set by -ldflags "-X github.com/scaffoldgo/scaffold/internal/build.Version=...".
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info returns the version, commit and date. Without ldflags they come from what Go
// records in every binary: `go install ...@v1.2.0` gives the module version, a build from
// a checkout a pseudo-version of its revision (v0.0.0-20261206044720-3c06ea9a0b1c, with
// +dirty for uncommitted changes), so a project records which scaffold made it; when Go
// recorded neither (GOFLAGS=-buildvcs=false, a test binary), "dev+" and a digest of the
// templates and runtime this binary carries, which is what a project's record must tell.
func Info() (version, commit, date string) {
	bi, _ := debug.ReadBuildInfo()
	version, commit, date = stamp(Version, Commit, Date, bi)
	if version == "dev" {
		version = "dev+" + contentDigest()
	}
	return version, commit, date
}

// contentDigest is the first 12 hex digits of a digest over every embedded template and
// the runtime's files: two binaries that would render alike have the same one.
func contentDigest() string {
	h := sha256.New()
	for _, tree := range []fs.FS{templates.Project, templates.ProjectDB, templates.Module, templates.Deploy} {
		_ = fs.WalkDir(tree, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(tree, p)
			fmt.Fprintf(h, "%s\x00%d\x00", p, len(data))
			h.Write(data)
			return err
		})
	}
	files := runtime.Files("example.com/m")
	for _, name := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(h, "%s\x00%d\x00", name, len(files[name]))
		h.Write(files[name])
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

func stamp(version, commit, date string, bi *debug.BuildInfo) (string, string, string) {
	if bi == nil {
		return version, commit, date
	}
	var revision, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.time":
			if date == "" {
				date = s.Value
			}
		case "vcs.modified":
			modified = s.Value
		}
	}
	if commit == "" {
		commit = revision
	}
	if version == "dev" {
		switch v := bi.Main.Version; {
		case v != "" && v != "(devel)":
			version = v
		case revision != "":
			version = "devel-" + revision[:min(12, len(revision))]
			if modified == "true" {
				version += "+dirty"
			}
		}
	}
	return version, strings.TrimSpace(commit), date
}
