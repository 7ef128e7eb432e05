package vendor

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/internal/cmdtest"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

func TestNewCmdVendorFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want Options
	}{
		{args: nil, want: Options{Dir: "."}},
		{args: []string{"--dir", "shop", "--force"}, want: Options{Dir: "shop", Force: true}},
	} {
		got, ios, err := cmdtest.Parse(NewCmdVendor, tt.args...)
		if err != nil {
			t.Fatal(err)
		}
		if got.IO != ios || got.Dir != tt.want.Dir || got.Force != tt.want.Force {
			t.Errorf("%v: options = %+v, want %+v with the factory's streams", tt.args, got, tt.want)
		}
	}
}

// vendorRun reports the versions and the files; an edited runtime is refused, naming the
// checksum, and kept; --force rewrites it; a file the user added is kept and said so.
func TestVendorRun(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	gen, err := project.Generate(project.Options{Name: "demo", Version: "v0.9.0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := gen.Files.Commit(dir, false); err != nil {
		t.Fatal(err)
	}
	ios, _, out, _ := iostreams.Test()
	if err := vendorRun(&Options{IO: ios, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "Vendored the prefork runtime ") || !strings.Contains(out.String(), " (was v0.9.0): ") || !strings.HasSuffix(out.String(), " files written.\n") {
		t.Errorf("output = %q", out)
	}

	doc := filepath.Join(dir, "internal", "prefork", "doc.go")
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	edited := append(data, "// local change\n"...)
	if err := os.WriteFile(doc, edited, 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = vendorRun(&Options{IO: ios, Dir: dir})
	if !errors.Is(err, project.ErrRuntimeEdited) || !strings.Contains(err.Error(), "--force") || out.Len() != 0 {
		t.Fatalf("edited runtime: err = %v, output %q; want ErrRuntimeEdited naming --force", err, out)
	}
	if got, _ := os.ReadFile(doc); !bytes.Equal(got, edited) {
		t.Error("the refused vendor changed doc.go")
	}
	if err := os.WriteFile(filepath.Join(dir, "internal", "prefork", "extra.go"), []byte("package prefork\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := vendorRun(&Options{IO: ios, Dir: dir, Force: true}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(doc); bytes.Contains(got, []byte("local change")) {
		t.Error("--force kept the local change")
	}
	if !strings.Contains(out.String(), "kept extra.go (not scaffold's)\n") {
		t.Errorf("output does not report the user's extra.go:\n%s", out)
	}
}
