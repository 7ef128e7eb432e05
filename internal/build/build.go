// Package build holds the values goreleaser injects at release time with -ldflags -X.
package build

import "runtime/debug"

// Set by -ldflags "-X github.com/scaffoldgo/scaffold/internal/build.Version=...".
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info returns the version, commit and date, falling back to the VCS stamp Go records
// in binaries built from a checkout when no ldflags were given.
func Info() (version, commit, date string) {
	version, commit, date = Version, Commit, Date
	if commit != "" {
		return
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.time":
				if date == "" {
					date = s.Value
				}
			}
		}
	}
	return
}
