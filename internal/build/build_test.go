package build

import (
	"runtime/debug"
	"testing"
)

// A source build is never "dev": it says which module version or revision it is.
func TestStamp(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "3c06ea9a0b1c5d2e"}, {Key: "vcs.time", Value: "2026-12-06T04:47:20Z"}}
	dirty := append(append([]debug.BuildSetting(nil), rev...), debug.BuildSetting{Key: "vcs.modified", Value: "true"})
	for _, tc := range []struct {
		name, version string
		bi            *debug.BuildInfo
		want, commit  string
	}{
		{"release ldflags win", "v1.2.0", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-x"}, Settings: rev}, "v1.2.0", "3c06ea9a0b1c5d2e"},
		{"go install @version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0", ""},
		{"checkout, pseudo-version", "dev", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261206044720-3c06ea9a0b1c+dirty"}, Settings: dirty}, "v0.0.0-20261206044720-3c06ea9a0b1c+dirty", "3c06ea9a0b1c5d2e"},
		{"revision only", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: dirty}, "devel-3c06ea9a0b1c+dirty", "3c06ea9a0b1c5d2e"},
		{"nothing recorded", "dev", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev", ""},
	} {
		v, c, _ := stamp(tc.version, "", "", tc.bi)
		if v != tc.want || c != tc.commit {
			t.Errorf("%s: %q, %q; want %q, %q", tc.name, v, c, tc.want, tc.commit)
		}
	}
}
