// Package testenv holds what the module's tests share: finding the real tools a test
// drives (Tool, OptionalTool), the offline environment for building generated projects
// (OfflineGoEnv), a free loopback address (FreeAddr, FreePort) and an output buffer that
// is safe to read while another goroutine writes it (Buffer).
//
// It is for tests only: it imports "testing", and non-test code must not import it.
package testenv

import (
	"fmt"
	gobuild "go/build"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// RequireTools is the environment variable that, set to 1 (as CI does), turns a missing
// tool from a skipped test into a failed one, so CI can never pass by skipping.
const RequireTools = "SCAFFOLD_REQUIRE_TOOLS"

// Tool returns the path of name, from PATH or else GOPATH/bin (where `go install` puts
// goreleaser, actionlint and air). When it is in neither, the test is skipped with a
// message naming the tool, where it was looked for and how to install it (install, if
// given, such as a `go install` line), or fails under SCAFFOLD_REQUIRE_TOOLS=1.
func Tool(t testing.TB, name string, install ...string) string {
	t.Helper()
	p, why := find(t, name, install)
	if p == "" {
		t.Skipf("%s not installed: skipping the test that needs the real tool: %s", name, why)
	}
	return p
}

// OptionalTool is Tool for a test that goes on without name: when name is missing, it
// logs that, with what the test does instead (without, e.g. "measuring the others only"),
// and returns "", or fails the test under SCAFFOLD_REQUIRE_TOOLS=1.
func OptionalTool(t testing.TB, name, without string, install ...string) string {
	t.Helper()
	p, why := find(t, name, install)
	if p == "" {
		t.Logf("%s not installed, %s: %s", name, without, why)
	}
	return p
}

// find returns the path of name. When it is missing, find fails t under
// SCAFFOLD_REQUIRE_TOOLS=1, else returns "" and why, for the caller's skip or log.
func find(t testing.TB, name string, install []string) (path, why string) {
	t.Helper()
	if p := lookTool(name); p != "" {
		return p, ""
	}
	where := "it is neither on PATH nor in GOPATH/bin (" + strings.Join(goBins(), string(filepath.ListSeparator)) + ")"
	how := "with the system's package manager, as .ci/run does"
	if len(install) > 0 {
		how = strings.Join(install, ", or ")
	}
	if os.Getenv(RequireTools) == "1" {
		t.Fatalf("%s is required (%s=1) but %s; install it (%s)", name, RequireTools, where, how)
	}
	return "", fmt.Sprintf("%s; install it (%s) or set %s=1 to fail instead", where, how, RequireTools)
}

// lookTool returns the path of the executable name on PATH or in a GOPATH entry's bin/,
// or "".
func lookTool(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range goBins() {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// goBins lists the bin/ folder of each GOPATH entry.
func goBins() []string {
	var dirs []string
	for _, gopath := range filepath.SplitList(gobuild.Default.GOPATH) {
		if gopath != "" {
			dirs = append(dirs, filepath.Join(gopath, "bin"))
		}
	}
	return dirs
}

// OfflineGoEnv is the environment of a test's go commands that build generated projects:
// os.Environ() with the dependencies taken from the module cache only (-mod=mod added to
// the caller's GOFLAGS, GOPROXY=off), no go.work around the project (GOWORK=off) and no
// toolchain download (GOTOOLCHAIN=local), as a user without network would build; then
// extra, which may override any of them (the last of a name wins in os/exec). The
// caller's GOFLAGS are kept so that CI's -ldflags=-w (no DWARF, a third less link CPU)
// reaches the generated projects' binaries and test binaries too, not only scaffold's; a
// command line's own -ldflags (make build's, goreleaser's) still wins over it.
func OfflineGoEnv(extra ...string) []string {
	goflags := strings.TrimSpace(os.Getenv("GOFLAGS") + " -mod=mod")
	env := append(os.Environ(), "GOFLAGS="+goflags, "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	return append(env, extra...)
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// FreeAddr returns a host:port on 127.0.0.1 that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return "127.0.0.1:" + strconv.Itoa(FreePort(t))
}
