package project

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/runtime"
)

var update = flag.Bool("update", false, "rewrite golden files")

// goldenCases are the option sets that change the output.
var goldenCases = []struct {
	name string
	opts Options
}{
	{"default", Options{Name: "demo", Version: "v0.0.0-test"}},
	{"shop-api", Options{Name: "shop-api", Module: "github.com/acme/shop-api", Port: 8080, Workers: 4, Version: "v0.0.0-test"}},
	{"sqlite", Options{Name: "notes-lite", Database: state.DatabaseSQLite, Version: "v0.0.0-test"}},
	{"postgres", Options{Name: "notes-pg", Module: "example.com/notes-pg", Workers: 4, Database: state.DatabasePostgres, Version: "v0.0.0-test"}},
	// `scaffold add module`'s options: --api --config, --page, and the default (both) with --config.
	{"modules", Options{Name: "market", Version: "v0.0.0-test", Modules: []state.Module{
		{Name: "orders", API: true, Config: true},
		{Name: "blog", Page: true},
		{Name: "catalog", API: true, Page: true, Config: true},
	}}},
}

var checksumLine = regexp.MustCompile(`sha256:[0-9a-f]{64}`)

// TestGolden compares every generated file with testdata/golden/<case>/<path>.golden. The
// vendored runtime is compared with the embedded source instead (its own tests cover it),
// and every checksum in scaffold.yaml is masked, so runtime and template edits do not churn the golden files.
func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := Generate(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join("testdata", "golden", tc.name)
			seen := map[string]bool{}
			vendored := map[string]bool{}
			// The runtime's packages and the engine import the runtime as the project's
			// internal/prefork/...
			module := tc.opts.Module
			if module == "" {
				module = tc.opts.Name
			}
			rewrite := strings.NewReplacer(`"github.com/scaffoldgo/scaffold/runtime/prefork"`, `"`+module+`/internal/prefork"`,
				`"github.com/scaffoldgo/scaffold/runtime/prefork/`, `"`+module+`/internal/prefork/`)
			for _, f := range ctx.Files.Files() {
				if strings.HasPrefix(f.Path, runtime.Dir+"/") {
					name := strings.TrimPrefix(f.Path, runtime.Dir+"/")
					vendored[name] = true
					checkVendored(t, f.Path, f.Data, RuntimeHeader(versionOr(tc.opts.Version)), filepath.Join(runtimeSource, filepath.FromSlash(name)), rewrite)
					continue
				}
				if strings.HasPrefix(f.Path, runtime.ConfigDir+"/") {
					checkVendored(t, f.Path, f.Data, ConfigHeader(versionOr(tc.opts.Version)), filepath.Join(configSource, strings.TrimPrefix(f.Path, runtime.ConfigDir+"/")), rewrite)
					continue
				}
				got := checksumLine.ReplaceAll(f.Data, []byte("sha256:MASKED"))
				golden := filepath.Join(dir, filepath.FromSlash(f.Path)+".golden")
				seen[golden] = true
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Errorf("%s: no golden file (run go test ./generators/project -update): %v", f.Path, err)
					continue
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s (run with -update if intended):\n%s", f.Path, golden, lineDiff(string(want), string(got)))
				}
			}
			// Every non-test Go file of the runtime's source tree is vendored.
			sources := 0
			err = filepath.WalkDir(runtimeSource, func(src string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() && d.Name() == "testdata" {
					return cmp.Or(err, filepath.SkipDir)
				}
				if d.IsDir() || filepath.Ext(src) != ".go" || strings.HasSuffix(src, "_test.go") {
					return nil
				}
				sources++
				if name, _ := filepath.Rel(runtimeSource, src); !vendored[filepath.ToSlash(name)] {
					t.Errorf("%s is not vendored into %s", src, runtime.Dir)
				}
				return nil
			})
			if err != nil || sources == 0 {
				t.Fatalf("no runtime source in %s: %v", runtimeSource, err)
			}
			// A golden file with no generated counterpart means a file stopped being generated.
			_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() && !seen[p] {
					if *update {
						return os.Remove(p)
					}
					t.Errorf("%s: golden file for a file no longer generated", p)
				}
				return nil
			})
		})
	}
}

// runtimeSource and configSource are the runtime's and the engine's source folders in
// this checkout.
var (
	runtimeSource = filepath.Join("..", "..", "runtime", "prefork")
	configSource  = filepath.Join("..", "..", "runtime", "appconfig")
)

func versionOr(v string) string {
	if v == "" {
		return "dev"
	}
	return v
}

// checkVendored compares one vendored file with the source file on disk (not the embedded
// copy the generator itself reads) after its header, rewritten by rewrite when not nil.
func checkVendored(t *testing.T, path string, got []byte, header, src string, rewrite *strings.Replacer) {
	t.Helper()
	body, ok := bytes.CutPrefix(got, []byte(header))
	if !ok {
		t.Errorf("%s does not start with the header %q:\n%s", path, header, got[:min(len(got), 200)])
		return
	}
	want, err := os.ReadFile(src)
	if err != nil {
		t.Errorf("%s: no source %s: %v", path, src, err)
		return
	}
	if rewrite != nil {
		want = []byte(rewrite.Replace(string(want)))
	}
	if !bytes.Equal(body, want) {
		t.Errorf("%s is not %s below its header:\n%s", path, src, lineDiff(string(want), string(body)))
	}
}

// lineDiff shows the first differing lines.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, wl, gl)
		}
	}
	return ""
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, err := Generate(Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Generate(Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := a.Files.Files(), b.Files.Files()
	if len(fa) != len(fb) {
		t.Fatalf("%d files, then %d", len(fa), len(fb))
	}
	for i := range fa {
		if fa[i].Path != fb[i].Path || !bytes.Equal(fa[i].Data, fb[i].Data) {
			t.Fatalf("%s differs between two runs", fa[i].Path)
		}
	}
}

func TestLayout(t *testing.T) {
	ctx, err := Generate(Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{
		"config/config.yaml", "config/logging.yaml", "config/setting.yaml", "factory/config.go", "factory/log.go",
		"web/app.go", "web/home/home.go", "web/home/templates/index.html", "web/static/css/style.css",
		"run/main.go", "wsgi/main.go", "internal/prefork/doc.go", "test/server_test.go", "scaffold.yaml",
		".gitignore", "README.md", "go.mod", "go.sum", "Makefile",
	} {
		if _, ok := ctx.Files.Get(p); !ok {
			t.Errorf("%s is not generated", p)
		}
	}
	for _, f := range ctx.Files.Files() {
		if strings.HasPrefix(f.Path, "internal/prefork/") && strings.HasSuffix(f.Path, "_test.go") {
			t.Errorf("%s: runtime tests must not be vendored", f.Path)
		}
		if strings.HasSuffix(f.Path, ".tmpl") {
			t.Errorf("%s: template suffix left in output", f.Path)
		}
	}
}

// The embedded runtime is vendored without formatting, so it must be gofmt'd already.
func TestRuntimeSourceIsFormatted(t *testing.T) {
	for name, data := range runtime.Files("example.com/m") {
		out, err := format.Source(data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !bytes.Equal(out, data) {
			t.Errorf("runtime/prefork/%s is not gofmt'd", name)
		}
	}
}

func TestManifestRoundTrip(t *testing.T) {
	ctx, err := Generate(Options{Name: "shop-api", Module: "example.com/shop", Port: 9000, Workers: 3, Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := state.Commit(ctx.Files, dir, true); err != nil {
		t.Fatal(err)
	}
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "shop-api" || m.Module != "example.com/shop" || m.Answers.Port != 9000 || m.Answers.Workers != 3 || m.Runtime.Version != "v1.2.3" {
		t.Fatalf("manifest = %+v", m)
	}
	if m.Answers.Database != "" {
		t.Errorf("answers.database = %q for a project without one, want it absent", m.Answers.Database)
	}
	// Each vendored file is recorded once, in the files map.
	for name, data := range RuntimeFiles("example.com/shop", "v1.2.3") {
		if p := m.Runtime.Dir + "/" + name; m.Files[p] != state.FileChecksum(data) {
			t.Errorf("files map: %s = %q, want the vendored file's checksum", p, m.Files[p])
		}
	}
}

// The database answer is recorded, so scaffold update re-renders the same project, and a
// bad value is refused with the rule.
func TestDatabaseAnswer(t *testing.T) {
	ctx, err := Generate(Options{Name: "shop", Database: state.DatabasePostgres, Version: "v1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := state.Commit(ctx.Files, dir, true); err != nil {
		t.Fatal(err)
	}
	m, err := state.LoadManifest(dir)
	if err != nil || m.Answers.Database != state.DatabasePostgres {
		t.Fatalf("manifest answers = %+v, %v; want database postgres", m.Answers, err)
	}
	for _, p := range []string{"factory/db.go", "db/migrations/00001_create_notes.sql", "db/migrations/migrations.go", "web/notes/notes.go", "web/readyz.go"} {
		if _, ok := ctx.Files.Get(p); !ok {
			t.Errorf("%s is not generated for --db postgres", p)
		}
	}
	none, err := Generate(Options{Name: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range none.Files.Files() {
		if strings.HasPrefix(f.Path, "db/") || strings.HasPrefix(f.Path, "web/notes/") || f.Path == "factory/db.go" {
			t.Errorf("%s is generated without a database", f.Path)
		}
	}
	_, err = Generate(Options{Name: "shop", Database: "mysql"})
	if err == nil || !strings.Contains(err.Error(), `"mysql"`) || !strings.Contains(err.Error(), "none, sqlite") {
		t.Errorf("Generate with database mysql = %v, want the rule", err)
	}
}

// The README's first screen says that workers share no memory, and where state goes.
func TestREADMEFirstScreenSaysWorkersAreProcesses(t *testing.T) {
	ctx, err := Generate(Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := ctx.Files.Get("README.md")
	lines := strings.SplitN(string(f.Data), "\n", 26)
	first := strings.Join(lines[:len(lines)-1], "\n")
	for _, want := range []string{"Each worker is a separate process", "Nothing is shared between them", "database", "cache"} {
		if !strings.Contains(first, want) {
			t.Errorf("the README's first 25 lines lack %q:\n%s", want, first)
		}
	}
}

// The README's examples quote config/config.yaml by line: they name the lines the
// generated file has.
func TestREADMEQuotesConfigLines(t *testing.T) {
	ctx, err := Generate(Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := ctx.Files.Get("README.md")
	config, _ := ctx.Files.Get("config/config.yaml")
	lines := strings.Split(string(config.Data), "\n")
	lineOf := func(prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("config.yaml has no line starting %q", prefix)
		return 0
	}
	for _, want := range []string{
		fmt.Sprintf("demo: config/config.yaml:%d: server.workers: must be at least 1, got \"0\"", lineOf("  workers:")),
		fmt.Sprintf("bind: ['127.0.0.1:8000'] # config/config.yaml:%d", lineOf("    - 127.0.0.1:")),
	} {
		if !bytes.Contains(readme.Data, []byte(want)) {
			t.Errorf("README.md lacks %q", want)
		}
	}
}
