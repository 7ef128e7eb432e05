package project

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
	"go.yaml.in/yaml/v3"
)

func TestInsertModuleConfig(t *testing.T) {
	m := state.Module{Name: "stock", API: true, Config: true}
	section := m.ConfigYAML() + "\n"
	tests := []struct {
		name, in, want, wantErr string
	}{
		{"no modules key", "app:\n  name: x\n", "app:\n  name: x\n\nmodules:\n" + section, ""},
		{"no final newline", "app:\n  name: x", "app:\n  name: x\n\nmodules:\n" + section, ""},
		{"after the last section", "modules:\n  orders:\n    title: O\n", "modules:\n  orders:\n    title: O\n" + section, ""},
		{"before what follows", "modules: # mine\n  orders:\n    title: O\n\n# tail\nserver:\n  workers: 2\n",
			"modules: # mine\n  orders:\n    title: O\n" + section + "\n# tail\nserver:\n  workers: 2\n", ""},
		{"blank line inside the block", "modules:\n  orders:\n    title: O\n\n  blog:\n    title: B\nx: 1\n",
			"modules:\n  orders:\n    title: O\n\n  blog:\n    title: B\n" + section + "x: 1\n", ""},
		{"at the end without a newline", "modules:\n  orders:\n    title: O", "modules:\n  orders:\n    title: O\n" + section, ""},
		{"taken", "modules:\n  stock:\n    title: S\n", "", `already has a section "stock"`},
		{"same key elsewhere is fine", "app:\n  stock: 1\nmodules:\n  a:\n    title: A\n", "app:\n  stock: 1\nmodules:\n  a:\n    title: A\n" + section, ""},
		{"inline mapping", "modules: {}\n", "", "not a block mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := insertModuleConfig([]byte(tt.in), m)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tt.want)
			}
			var doc map[string]any
			if err := yaml.Unmarshal(got, &doc); err != nil {
				t.Fatalf("not YAML: %v", err)
			}
		})
	}
}

func TestValidateModuleName(t *testing.T) {
	for _, n := range []string{"orders", "blog2", "x"} {
		if err := ValidateModuleName(n); err != nil {
			t.Errorf("ValidateModuleName(%q) = %v", n, err)
		}
	}
	bad := map[string]string{
		"": "empty", "Orders": "lowercase", "my-orders": "lowercase", "my_orders": "lowercase", "1x": "starting with a letter",
		"home": "reserved", "static": "reserved", "httpjson": "reserved", "api": "reserved", "func": "Go keyword",
		"http": "reserved", "fmt": "standard library", "test": "reserved", "internal": "reserved",
		strings.Repeat("a", 33): "at most 32",
	}
	for n, want := range bad {
		if err := ValidateModuleName(n); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateModuleName(%q) = %v, want an error mentioning %q", n, err, want)
		}
	}
}

func TestAddModuleThenUpdateIsQuiet(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	appGo := filepath.Join(dir, "web", "app.go")
	edited := readFile(t, appGo) + "// the user's line\n"
	writeFile(t, appGo, edited)
	writeFile(t, filepath.Join(dir, configYAML), readFile(t, filepath.Join(dir, configYAML))+"# mine\n")
	for _, m := range []state.Module{{Name: "orders", API: true, Config: true}, {Name: "blog", Page: true}} {
		if _, err := AddModule(dir, m, false); err != nil {
			t.Fatal(err)
		}
	}
	if got := readFile(t, appGo); got != edited {
		t.Error("add module changed web/app.go")
	}
	res, err := Update(dir, "v0.0.0-test", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range res.Entries {
		switch {
		case e.Path == "web/app.go" || e.Path == configYAML:
			if e.Action != state.Kept {
				t.Errorf("update after add: %s is %s, want kept", e.Path, e.Action)
			}
		case e.Action != state.Unchanged:
			t.Errorf("update after add: %s is %s, want unchanged", e.Path, e.Action)
		}
	}
	cfg := readFile(t, filepath.Join(dir, configYAML))
	if !strings.Contains(cfg, "# mine\n") || !strings.Contains(cfg, "modules:\n  orders:\n") {
		t.Errorf("config.yaml lost the edit or lacks the section:\n%s", cfg)
	}
}

func TestAddModuleRefuses(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	if _, err := AddModule(dir, state.Module{Name: "orders"}, false); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, dir)
	tests := []struct {
		name    string
		prepare func()
		module  state.Module
		wantErr string
	}{
		{"taken in scaffold.yaml", nil, state.Module{Name: "orders"}, `module "orders" already exists`},
		{"folder exists", func() { os.MkdirAll(filepath.Join(dir, "web", "mine"), 0o755) }, state.Module{Name: "mine"}, "web/mine already exists"},
		{"bad name", nil, state.Module{Name: "Bad"}, "not allowed"},
		{"edited modules.go", func() {
			p := filepath.Join(dir, "web", "modules.go")
			writeFile(t, p, readFile(t, p)+"// edit\n")
		}, state.Module{Name: "blog"}, "web/modules.go was edited"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.prepare != nil {
				tt.prepare()
				before = snapshot(t, dir)
			}
			_, err := AddModule(dir, tt.module, false)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if after := snapshot(t, dir); after != before {
				t.Error("a refused add changed the project")
			}
		})
	}
}

func TestAddModuleSaysWhenAppGoDoesNotRegister(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	appGo := filepath.Join(dir, "web", "app.go")
	writeFile(t, appGo, strings.Replace(readFile(t, appGo), "registerModules(mux, cfg, logger, site)", "nil", 1))
	res, err := AddModule(dir, state.Module{Name: "orders"}, true)
	if err != nil || !res.Unregistered {
		t.Fatalf("AddModule = %+v, %v; want Unregistered", res, err)
	}
}

func TestAddModuleDryRunWritesNothing(t *testing.T) {
	dir := newProject(t, "v0.0.0-test")
	before := snapshot(t, dir)
	res, err := AddModule(dir, state.Module{Name: "orders", Config: true}, true)
	if err != nil {
		t.Fatal(err)
	}
	if snapshot(t, dir) != before {
		t.Fatal("dry run changed the project")
	}
	var paths []string
	for _, c := range res.Changes {
		paths = append(paths, string(c.Change)+" "+c.Path)
	}
	got := strings.Join(paths, "\n")
	for _, want := range []string{"create web/orders/orders.go", "create web/orders/config.go", "create web/orders/templates/index.html", "overwrite web/modules.go", "overwrite factory/modules.go", "overwrite config/config.yaml", "overwrite scaffold.yaml"} {
		if !strings.Contains(got, want) {
			t.Errorf("plan lacks %q:\n%s", want, got)
		}
	}
}

// snapshot is every file's path and content under dir, as one string.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + "\n")
		if !d.IsDir() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b.Write(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
