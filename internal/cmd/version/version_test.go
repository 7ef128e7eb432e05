package version

import (
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/build"
	"github.com/scaffoldgo/scaffold/internal/cmdtest"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// The command hands the run function the streams and build.Info, and takes no argument.
func TestNewCmdVersion(t *testing.T) {
	got, ios, err := cmdtest.Parse(NewCmdVersion)
	if err != nil {
		t.Fatal(err)
	}
	if got == nil || got.IO != ios || got.Info == nil {
		t.Fatalf("options = %+v, want the factory's streams and an Info", got)
	}
	want, _, _ := build.Info()
	if v, _, _ := got.Info(); v != want || v == "dev" {
		t.Errorf("Info() version = %q, want build.Info's %q (never a bare dev)", v, want)
	}

	if got, _, err := cmdtest.Parse(NewCmdVersion, "extra"); err == nil || got != nil || !strings.Contains(err.Error(), `unknown command "extra"`) {
		t.Errorf("version extra: err = %v, want cobra's refusal of the argument", err)
	}
}

func TestVersionRun(t *testing.T) {
	tests := []struct {
		name                  string
		version, commit, date string
		want                  string
	}{
		{"plain build", "dev", "", "", "scaffold dev\n"},
		{"release", "v1.4.0", "0123456789abcdef0123", "2026-11-30T12:00:00Z", "scaffold v1.4.0 (0123456789ab, 2026-11-30T12:00:00Z)\n"},
		{"VCS stamp without a date", "dev", "abc123", "", "scaffold dev (abc123)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, out, errOut := iostreams.Test()
			err := versionRun(&Options{IO: ios, Info: func() (string, string, string) { return tt.version, tt.commit, tt.date }})
			if err != nil || out.String() != tt.want || errOut.Len() != 0 {
				t.Errorf("got %q (stderr %q, err %v), want %q", out, errOut, err, tt.want)
			}
		})
	}
}
