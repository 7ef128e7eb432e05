package project

import (
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
