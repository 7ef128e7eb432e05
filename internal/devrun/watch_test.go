package devrun

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		rel  string
		want changeKind
	}{
		{"web/home/home.go", changeCode},
		{"main.go", changeCode},
		{"web/home/home_test.go", changeIgnored},
		{"go.mod", changeCode},
		{"go.sum", changeCode},
		{"web/home/templates/index.html", changeCode},
		{"web/mail/layout.tmpl", changeCode},
		{"config/config.yaml", changeConfig},
		{"config/setting.yml", changeConfig},
		{".env", changeConfig},
		{"web/.env", changeIgnored},
		{"other/config.yaml", changeIgnored},
		{"web/static/css/style.css", changeStatic},
		{"web/static/index.html", changeStatic},
		{"web/staticky/x.go", changeCode},
		{"README.md", changeIgnored},
		{".git/HEAD", changeIgnored},
		{"bin/app", changeIgnored},
		{"dist/x.go", changeIgnored},
		{"tmp/main.go", changeIgnored},
		{"node_modules/x/index.html", changeIgnored},
		{".idea/workspace.go", changeIgnored},
		{"web/home/4913", changeIgnored},
		{"web/home/.home.go.swp", changeIgnored},
		{"web/home/home.go~", changeIgnored},
		{"web/home/.#home.go", changeIgnored},
		{"web/home/home.go.tmp", changeIgnored},
	}
	for _, tt := range tests {
		if got := classify(tt.rel, "web/static"); got != tt.want {
			t.Errorf("classify(%q) = %d, want %d", tt.rel, got, tt.want)
		}
	}
	if got := classify("web/static/app.js", ""); got != changeIgnored {
		t.Errorf("without a static dir, a .js file = %d, want ignored", got)
	}
}

func TestSplitFlags(t *testing.T) {
	for in, want := range map[string][]string{
		"":                           {},
		"  ":                         {},
		"-ldflags=-w":                {"-ldflags=-w"},
		`-gcflags="all=-N -l" -race`: {"-gcflags=all=-N -l", "-race"},
		`-tags 'a b'  -x`:            {"-tags", "a b", "-x"},
		`""`:                         {""},
	} {
		got, err := SplitFlags(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("SplitFlags(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := SplitFlags(`-gcflags='all=-N`); err == nil || !strings.Contains(err.Error(), "unterminated ' quote") {
		t.Errorf("unterminated quote: err = %v", err)
	}
}

func TestFormatBuildOutput(t *testing.T) {
	out := "# demo/web/home\nweb/home/home.go:24:20: syntax error: unexpected *\n"
	plain := formatBuildOutput(out, false)
	if !strings.Contains(plain, "    web/home/home.go:24:20: syntax error") || strings.Contains(plain, "\x1b[") {
		t.Errorf("plain output:\n%q", plain)
	}
	colored := formatBuildOutput(out, true)
	if !strings.Contains(colored, ansiBold+"web/home/home.go:24:20"+ansiReset) || !strings.Contains(colored, ansiRed+" syntax error") {
		t.Errorf("coloured output lacks a bold position and a red message:\n%q", colored)
	}
}

func TestReadProjectSettings(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "config"), 0o755)
	os.WriteFile(filepath.Join(dir, "config", "config.yaml"), []byte("app:\n  static_dir: web/static\n  name: x\nserver:\n  bind:\n    - 127.0.0.1:9100\n    - unix:/tmp/x.sock\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "config", "setting.yaml"), []byte("development:\n  app:\n    static_dir: ./public/\nproduction:\n  server:\n    bind: [0.0.0.0:80]\n"), 0o644)
	s, err := readProjectSettings(dir, "development", nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Bind != "127.0.0.1:9100" || s.StaticDir != "public" {
		t.Errorf("settings = %+v, want bind 127.0.0.1:9100 (production ignored), static public", s)
	}
	if s, _ := readProjectSettings(dir, "development", []string{"APP_ENV=production"}); s.Bind != "0.0.0.0:80" {
		t.Errorf("APP_ENV=production: %+v, want production's bind", s)
	}
	if s, err := readProjectSettings(t.TempDir(), "development", nil); err != nil || s.Bind != "" {
		t.Errorf("no config: %+v, %v; want empty, nil", s, err)
	}
	if s, _ := readProjectSettings(dir, "development", []string{"APP_SERVER_BIND=127.0.0.1:9200, unix:/tmp/y.sock"}); s.Bind != "127.0.0.1:9200" {
		t.Errorf("APP_SERVER_BIND not applied: %+v", s)
	}
	// The engine's rules, as the app applies them.
	if _, err := readProjectSettings(dir, "development", []string{"APP_SERVER_WORKERS=many"}); err == nil || !strings.Contains(err.Error(), "APP_SERVER_WORKERS (server.workers): must be a whole number") {
		t.Errorf("bad variable: err = %v", err)
	}
	os.WriteFile(filepath.Join(dir, "config", "config.yaml"), []byte("server: [\n"), 0o644)
	if _, err := readProjectSettings(dir, "development", nil); err == nil || !strings.Contains(err.Error(), "config.yaml") {
		t.Errorf("broken YAML: err = %v, want it to name config.yaml", err)
	}
}

// TestWatcher checks both watch modes: a burst is one batch, new directories are watched,
// ignored files never show, static-only batches are marked static.
func TestWatcher(t *testing.T) {
	for _, mode := range []struct {
		name string
		poll time.Duration
	}{{"inotify", 0}, {"poll", 20 * time.Millisecond}} {
		t.Run(mode.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range []string{"web/static", ".git", "config"} {
				os.MkdirAll(filepath.Join(dir, d), 0o755)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w := newWatcher(dir, "web/static", 200*time.Millisecond, mode.poll) // wide: busy CI machines
			if err := w.start(ctx); err != nil {
				t.Fatal(err)
			}
			next := func() batch {
				t.Helper()
				select {
				case b := <-w.out:
					return b
				case <-time.After(5 * time.Second):
					t.Fatal("no batch within 5s")
				}
				return batch{}
			}
			write := func(rel, text string) {
				t.Helper()
				p := filepath.Join(dir, filepath.FromSlash(rel))
				os.MkdirAll(filepath.Dir(p), 0o755)
				if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// No wait here: start returns once the poller's first snapshot is taken (and
			// inotify's watches are added), so every write below is a change to it.
			for i := range 20 {
				write("main.go", "package main // "+strings.Repeat("x", i))
				write(".git/index", "x")
				write("main.go~", "x")
				write("4913", "")
			}
			b := next()
			if !slices.Equal(b.files, []string{"main.go"}) || b.kind != changeCode {
				t.Errorf("burst: batch %+v, want one batch of main.go (code)", b)
			}
			// A loaded machine can pause the burst for longer than the debounce, so the
			// last of its main.go writes may come as a batch of their own, alone or with
			// the next file; nothing else may.
			nextWith := func(file string) batch {
				t.Helper()
				for {
					b := next()
					rest := slices.DeleteFunc(slices.Clone(b.files), func(f string) bool { return f == file || f == "main.go" })
					if len(rest) > 0 {
						t.Errorf("waiting for %s: batch %+v has files it should not", file, b)
					}
					if slices.Contains(b.files, file) {
						return b
					}
				}
			}
			write("web/new/deeper/page.go", "package deeper")
			nextWith("web/new/deeper/page.go") // a file in new directories
			write("web/new/deeper/later.go", "package deeper")
			if b = next(); !slices.Equal(b.files, []string{"web/new/deeper/later.go"}) {
				t.Errorf("new directory not watched: batch %+v", b)
			}
			write("web/static/site.css", "body{}")
			if b = next(); b.kind != changeStatic {
				t.Errorf("static change: batch %+v, want static", b)
			}
			write("config/config.yaml", "app: {}")
			if b = next(); b.kind != changeConfig {
				t.Errorf("config change: batch %+v, want config", b)
			}
			select {
			case b := <-w.out:
				t.Errorf("unexpected batch %+v", b)
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}
