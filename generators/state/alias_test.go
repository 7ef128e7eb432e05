package state

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// changeNames are the names of the one file-state enum: the type and its kinds.
var changeNames = map[string]bool{
	"Change": true, "Create": true, "Overwrite": true, "Unchanged": true, "Delete": true, "Kept": true,
	"Conflict": true, "Orphan": true, "Removed": true, "Merged": true, "Unresolved": true,
}

// TestNoChangeAliasOutsideState pins one file-state vocabulary: no package but this one
// gives Change or one of its kinds a second name (deploy.Edited, project.UpdateKept and
// generators.Conflict were such names). A package-level type declared as state.Change
// (alias or not), or a package-level const or var whose type or value is state.Change or
// one of its kinds, is refused.
func TestNoChangeAliasOutsideState(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	self, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path == self || (path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		files++
		for _, found := range changeAliases(t, path) {
			rel, _ := filepath.Rel(root, path)
			t.Errorf("%s: %s gives the file-state Change a second name; use state.%s", rel, found.name, found.of)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Fatalf("walked %d Go files under %s: not the repository", files, root)
	}
}

type alias struct{ name, of string }

// changeAliases are the package-level declarations of path that rename Change or a kind.
func changeAliases(t *testing.T, path string) []alias {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	local := stateImportName(f)
	if local == "" {
		return nil
	}
	names := func(e ast.Expr) string {
		if sel, ok := e.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == local && changeNames[sel.Sel.Name] {
				return sel.Sel.Name
			}
		}
		return ""
	}
	var out []alias
	for _, decl := range f.Decls {
		gen, ok := decl.(*ast.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gen.Specs {
			switch s := spec.(type) {
			case *ast.TypeSpec:
				if of := names(s.Type); of != "" {
					out = append(out, alias{s.Name.Name, of})
				}
			case *ast.ValueSpec:
				of := ""
				if s.Type != nil {
					of = names(s.Type)
				}
				for _, v := range s.Values {
					if n := names(v); n != "" {
						of = n
					}
				}
				if of != "" {
					for _, n := range s.Names {
						out = append(out, alias{n.Name, of})
					}
				}
			}
		}
	}
	return out
}

// stateImportName is the name f imports this package under, "" when it does not.
func stateImportName(f *ast.File) string {
	for _, imp := range f.Imports {
		if strings.Trim(imp.Path.Value, `"`) != "github.com/scaffoldgo/scaffold/generators/state" {
			continue
		}
		if imp.Name != nil {
			return imp.Name.Name
		}
		return "state"
	}
	return ""
}

// The check finds what it looks for: each form of second name is caught.
func TestChangeAliasesFound(t *testing.T) {
	src := `package x

import st "github.com/scaffoldgo/scaffold/generators/state"

type Action = st.Change
type Fate st.Change

const Edited = st.Kept

var (
	UpdateConflict st.Change = "conflict"
	fine = 3
)

func f() { local := st.Kept; _ = local }
`
	path := filepath.Join(t.TempDir(), "x.go")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, a := range changeAliases(t, path) {
		got[a.name] = a.of
	}
	want := map[string]string{"Action": "Change", "Fate": "Change", "Edited": "Kept", "UpdateConflict": "Change"}
	if len(got) != len(want) {
		t.Fatalf("found %v, want %v", got, want)
	}
	for n, of := range want {
		if got[n] != of {
			t.Errorf("%s: found %q, want %q", n, got[n], of)
		}
	}
}
