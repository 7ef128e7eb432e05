package run

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/cmdutil"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

func TestNewCmdRunFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Options
		wantErr string
	}{
		{name: "production defaults", args: nil,
			want: Options{Dir: ".", Debounce: 50 * time.Millisecond, Grace: 5 * time.Second, ReadyTimeout: 30 * time.Second, BuildFlags: "-ldflags=-w"}},
		{name: "dev with everything", args: []string{"--dev", "-b", "127.0.0.1:9000", "--dir", "shop", "--debounce", "20ms", "--poll", "250ms", "--", "--log-level", "debug"},
			want: Options{Dev: true, Bind: "127.0.0.1:9000", Dir: "shop", Debounce: 20 * time.Millisecond, Poll: 250 * time.Millisecond,
				Grace: 5 * time.Second, ReadyTimeout: 30 * time.Second, BuildFlags: "-ldflags=-w", Args: []string{"--log-level", "debug"}}},
		{name: "production passthrough", args: []string{"--", "-w", "4"},
			want: Options{Dir: ".", Debounce: 50 * time.Millisecond, Grace: 5 * time.Second, ReadyTimeout: 30 * time.Second, BuildFlags: "-ldflags=-w", Args: []string{"-w", "4"}}},
		{name: "dev with debugger build flags", args: []string{"--dev", "--build-flags", `-gcflags="all=-N -l"`},
			want: Options{Dev: true, Dir: ".", Debounce: 50 * time.Millisecond, Grace: 5 * time.Second, ReadyTimeout: 30 * time.Second, BuildFlags: `-gcflags="all=-N -l"`}},
		{name: "build flags without dev", args: []string{"--build-flags", ""}, wantErr: "--build-flags applies to --dev only"},
		{name: "unterminated quote", args: []string{"--dev", "--build-flags", `-gcflags="all=-N`}, wantErr: `--build-flags: unterminated " quote`},
		{name: "stray argument", args: []string{"--dev", "web"}, wantErr: "no arguments before --"},
		{name: "poll without dev", args: []string{"--poll", "1s"}, wantErr: "--poll applies to --dev only"},
		{name: "poll too fast", args: []string{"--dev", "--poll", "1ms"}, wantErr: "at least 10ms"},
		{name: "negative debounce", args: []string{"--dev", "--debounce", "-1s"}, wantErr: "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			var got *Options
			cmd := NewCmdRun(&cmdutil.Factory{IOStreams: ios}, func(o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			err := cmd.Execute()
			if tt.wantErr != "" {
				var fe *cmdutil.FlagError
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, &fe) {
					t.Fatalf("err = %v, want a usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			g := *got
			if g.Dev != tt.want.Dev || g.Bind != tt.want.Bind || g.Dir != tt.want.Dir || g.Debounce != tt.want.Debounce ||
				g.Poll != tt.want.Poll || g.Grace != tt.want.Grace || g.ReadyTimeout != tt.want.ReadyTimeout || g.BuildFlags != tt.want.BuildFlags || !slices.Equal(g.Args, tt.want.Args) {
				t.Errorf("options = %+v\nwant      %+v", g, tt.want)
			}
		})
	}
}

func TestRunOutsideProject(t *testing.T) {
	for _, dev := range []bool{true, false} {
		ios, _, _, _ := iostreams.Test()
		err := runRun(&Options{IO: ios, Dev: dev, Dir: t.TempDir(), Bind: "127.0.0.1:0"})
		if err == nil || !strings.Contains(err.Error(), "main.go: run inside a project made by `scaffold new`") {
			t.Errorf("dev=%v: err = %v, want the not-a-project error", dev, err)
		}
	}
}

// From a folder inside a project, run walks up to the folder holding scaffold.yaml and
// says so; that project here has no entries, so the runner names it in its refusal.
func TestRunFindsTheProjectAbove(t *testing.T) {
	root := filepath.Join(t.TempDir(), "demo")
	if err := os.MkdirAll(filepath.Join(root, "web", "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "scaffold.yaml"), []byte("name: demo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ios, _, _, errOut := iostreams.Test()
	err := runRun(&Options{IO: ios, Dev: true, Dir: filepath.Join(root, "web", "home"), Bind: "127.0.0.1:0"})
	if err == nil || !strings.Contains(err.Error(), root+" has no run/main.go") {
		t.Errorf("err = %v, want the refusal to name %s", err, root)
	}
	if !strings.Contains(errOut.String(), "Using the project in "+root+" (scaffold.yaml).") {
		t.Errorf("stderr %q does not say which project it used", errOut)
	}
}
