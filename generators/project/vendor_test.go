package project

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
)

// The configuration engine imports the runtime, so vendor upgrades both together.
func TestVendorUpgradesTheEngineBesideTheRuntime(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	res, err := Vendor(dir, "v1.1.0", false, false)
	if err != nil {
		t.Fatal(err)
	}
	load := filepath.Join(dir, "internal", "appconfig", "load.go")
	if !slices.Contains(res.Written, "internal/appconfig/load.go") || !strings.HasPrefix(readFile(t, load), ConfigHeader("v1.1.0")) {
		t.Errorf("the engine was not upgraded: %+v", res)
	}
	if m, _ := state.LoadManifest(dir); m.Files["internal/appconfig/load.go"] != state.FileChecksum([]byte(readFile(t, load))) {
		t.Errorf("scaffold.yaml records %q for the engine's load.go", m.Files["internal/appconfig/load.go"])
	}
}

// A project vendored from an older layout of the runtime (the flat package) comes out of
// `scaffold update --runtime` with the new tree only: scaffold's unedited old files are
// removed, an edited one is set aside as FILE.scaffold-old, out of the build, a file the
// user added stays, and the project builds.
func TestVendorReplacesTheRuntimeTreeWhole(t *testing.T) {
	dir := newProject(t, "v1.0.0")
	m, err := state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Each old file redeclares Run, so any of them left in the build breaks it.
	old := map[string]string{
		"oldflat_loop.go":           "package prefork\n\nfunc Run() {}\n",
		"oldflat_edited.go":         "package prefork\n\nfunc Serve() {}\n",
		"internal/oldpkg/oldpkg.go": "package oldpkg\n\nfunc Run() {}\n\nfunc Run() {}\n",
	}
	for name, data := range old {
		p := filepath.Join(dir, "internal", "prefork", filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, p, data)
		m.Runtime.Files = append(m.Runtime.Files, name)
		m.Files["internal/prefork/"+name] = state.FileChecksum([]byte(data))
	}
	manifest, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, state.ManifestFile), string(manifest))
	edited := "package prefork\n\n// my fix\nfunc Serve() {}\n"
	writeFile(t, filepath.Join(dir, "internal", "prefork", "oldflat_edited.go"), edited)
	writeFile(t, filepath.Join(dir, "internal", "prefork", "mine.go"), "package prefork\n\n// Mine is the user's.\nconst Mine = 1\n")

	res, err := Vendor(dir, "v1.1.0", false, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"internal/prefork/internal/oldpkg/oldpkg.go", "internal/prefork/oldflat_loop.go"}; !slices.Equal(res.Removed, want) {
		t.Errorf("removed %q, want %q", res.Removed, want)
	}
	if want := []string{"internal/prefork/mine.go"}; !slices.Equal(res.Kept, want) {
		t.Errorf("kept %q, want %q", res.Kept, want)
	}
	if want := []string{"internal/prefork/oldflat_edited.go"}; !slices.Equal(res.SetAside, want) {
		t.Errorf("set aside %q, want %q", res.SetAside, want)
	}
	if got := readFile(t, filepath.Join(dir, "internal", "prefork", "oldflat_edited.go"+OldSuffix)); got != edited {
		t.Errorf("the edited file set aside holds %q, want the user's edit", got)
	}
	// On disk, the runtime's Go files are exactly the new tree's and the user's own.
	onDisk, err := readGoTree(filepath.Join(dir, "internal", "prefork"))
	if err != nil {
		t.Fatal(err)
	}
	want := RuntimeFiles(m.Module, "v1.1.0")
	want["mine.go"] = nil
	for name := range onDisk {
		if _, ok := want[name]; !ok {
			t.Errorf("stale Go file left in the runtime's tree: internal/prefork/%s", name)
		}
	}
	if len(onDisk) != len(want) {
		t.Errorf("%d Go files in the runtime's tree, want %d", len(onDisk), len(want))
	}
	m, err = state.LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for p := range m.Files {
		if strings.Contains(p, "oldflat") || strings.Contains(p, "oldpkg") {
			t.Errorf("scaffold.yaml still records %s", p)
		}
	}
	goCmd(t, dir, "build", "./...")
	goCmd(t, dir, "vet", "./internal/prefork/...")
}
