package project

import (
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
)

// Every generated Go file carries Go's generated-code marker exactly when scaffold or the
// vendoring owns it, and each marked file's header names the commands that rewrite it; a
// file of yours has none (gofmt, linters and editors would treat it as not yours).
func TestOwnershipMarkers(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := Generate(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			marked := map[Owner]int{}
			for _, f := range ctx.Files.Files() {
				if path.Ext(f.Path) != ".go" {
					continue
				}
				owner := OwnerOf(f.Path)
				head := string(f.Data)
				if i := strings.Index(head, "\npackage "); i >= 0 {
					head = head[:i]
				}
				if got := GeneratedMarker.MatchString(head); got != owner.Marked() {
					t.Errorf("%s (%s): marked %v, want %v:\n%s", f.Path, owner.Name, got, owner.Marked(), head)
					continue
				}
				if !owner.Marked() {
					continue
				}
				marked[owner]++
				want := []string{"`scaffold update`", "`scaffold vendor`"}
				if owner == OwnedByScaffold {
					want = []string{"`scaffold add module`", "`scaffold remove module`", "`scaffold update`"}
				}
				for _, cmd := range want {
					if !strings.Contains(head, cmd) {
						t.Errorf("%s (%s): its header does not name %s, which rewrites it:\n%s", f.Path, owner.Name, cmd, head)
					}
				}
			}
			if marked[OwnedByScaffold] != 2 || marked[Vendored] == 0 {
				t.Errorf("marked files: %d of scaffold's, %d vendored; want web/modules.go, factory/modules.go and the vendored packages", marked[OwnedByScaffold], marked[Vendored])
			}
		})
	}
}

// The generated README's layout table names each row's owner as OwnerOf does (a folder's
// by a file in it), and the list above it explains every owner; scaffold.yaml names them too.
func TestReadmeOwnerColumn(t *testing.T) {
	ctx, err := Generate(Options{Name: "demo", Database: state.DatabaseSQLite, Version: "v0.0.0-test"})
	if err != nil {
		t.Fatal(err)
	}
	readme, _ := ctx.Files.Get("README.md")
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\| .* \\| (scaffold|vendored|yours, merged|yours) \\|[^|]*\\|$")
	_, layout, _ := strings.Cut(string(readme.Data), "## Layout\n")
	layout, _, _ = strings.Cut(layout, "\n#")
	rows := row.FindAllStringSubmatch(layout, -1)
	if all := regexp.MustCompile("(?m)^\\| `").FindAllString(layout, -1); len(rows) != len(all) || len(rows) < 20 {
		t.Fatalf("the layout table has %d rows, %d of them with an owner: want every row's:\n%s", len(all), len(rows), readme.Data)
	}
	for _, r := range rows {
		p := r[1]
		if strings.HasSuffix(p, "/") {
			p += "some.go"
		}
		if want := OwnerOf(p).Name; r[2] != want {
			t.Errorf("README: %s is %q's, OwnerOf says %q", r[1], r[2], want)
		}
	}
	manifest, _ := ctx.Files.Get(state.ManifestFile)
	for _, o := range Owners {
		if !strings.Contains(string(readme.Data), "- **"+o.Name+"** ("+o.Files+"): "+o.Meaning) {
			t.Errorf("README does not explain the owner %q", o.Name)
		}
		if !strings.Contains(string(manifest.Data), "#   "+o.Name+" ("+o.Files+"): "+o.Meaning) {
			t.Errorf("scaffold.yaml does not name the owner %q", o.Name)
		}
	}
}
