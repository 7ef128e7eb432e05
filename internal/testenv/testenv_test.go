package testenv

import (
	"fmt"
	gobuild "go/build"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// recorder is a testing.TB that records a skip, a failure or a log; a skip or a failure
// stops the caller, as it does in a test, by a panic that call recovers.
type recorder struct {
	testing.TB
	skip, fatal, log string
}

type stopped struct{}

func (r *recorder) Helper()                         {}
func (r *recorder) Logf(format string, args ...any) { r.log = fmt.Sprintf(format, args...) }
func (r *recorder) Skipf(format string, args ...any) {
	r.skip = fmt.Sprintf(format, args...)
	panic(stopped{})
}
func (r *recorder) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	panic(stopped{})
}

// call returns what f returns, or "" when f stopped the test.
func (r *recorder) call(f func(testing.TB) string) (s string) {
	defer func() {
		if v := recover(); v != nil && v != (stopped{}) {
			panic(v)
		}
	}()
	return f(r)
}

func TestTool(t *testing.T) {
	gopath := t.TempDir()
	bin := filepath.Join(gopath, "bin", "fake-tool")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gopath, "bin", "not-executable"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := gobuild.Default.GOPATH
	gobuild.Default.GOPATH = gopath
	t.Cleanup(func() { gobuild.Default.GOPATH = old })
	t.Setenv("PATH", t.TempDir())

	t.Setenv(RequireTools, "")
	var r recorder
	if p := r.call(func(tb testing.TB) string { return Tool(tb, "fake-tool") }); p != bin || r != (recorder{}) {
		t.Errorf("in GOPATH/bin: %q, %+v; want %q and nothing said", p, r, bin)
	}
	for _, name := range []string{"missing-tool", "not-executable"} {
		r = recorder{}
		if p := r.call(func(tb testing.TB) string { return Tool(tb, name, "go install example.com/"+name+"@v1") }); p != "" || r.fatal != "" || r.log != "" ||
			!strings.HasPrefix(r.skip, name+" not installed") || !strings.Contains(r.skip, "go install example.com/"+name+"@v1") ||
			!strings.Contains(r.skip, filepath.Join(gopath, "bin")) || !strings.Contains(r.skip, "SCAFFOLD_REQUIRE_TOOLS=1 to fail") {
			t.Errorf("%s: %q, %+v; want a skip naming it, the install line, GOPATH/bin and SCAFFOLD_REQUIRE_TOOLS", name, p, r)
		}
	}
	r = recorder{}
	if p := r.call(func(tb testing.TB) string { return OptionalTool(tb, "missing-tool", "measuring the rest") }); p != "" || r.skip != "" || r.fatal != "" ||
		!strings.Contains(r.log, "missing-tool not installed, measuring the rest") || !strings.Contains(r.log, "package manager") {
		t.Errorf("optional: %q, %+v; want a log", p, r)
	}

	t.Setenv(RequireTools, "1")
	for _, f := range []func(testing.TB) string{
		func(tb testing.TB) string { return Tool(tb, "missing-tool") },
		func(tb testing.TB) string { return OptionalTool(tb, "missing-tool", "measuring the rest") },
	} {
		r = recorder{}
		if p := r.call(f); p != "" || r.skip != "" || r.log != "" ||
			!strings.HasPrefix(r.fatal, "missing-tool is required (SCAFFOLD_REQUIRE_TOOLS=1)") {
			t.Errorf("SCAFFOLD_REQUIRE_TOOLS=1: %q, %+v; want a failure", p, r)
		}
	}
}

func TestOfflineGoEnv(t *testing.T) {
	for _, tc := range []struct{ goflags, want string }{
		{"", "GOFLAGS=-mod=mod"},
		{"-timeout=30m -ldflags=-w", "GOFLAGS=-timeout=30m -ldflags=-w -mod=mod"}, // CI's, kept
	} {
		t.Setenv("GOFLAGS", tc.goflags)
		env := OfflineGoEnv("TERM=xterm")
		base := len(os.Environ())
		want := []string{tc.want, "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local", "TERM=xterm"}
		if len(env) != base+len(want) || !slices.Equal(env[base:], want) {
			t.Errorf("GOFLAGS=%q: OfflineGoEnv appends %q, want %q", tc.goflags, env[min(base, len(env)):], want)
		}
	}
}

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("%s is not free: %v", addr, err)
	}
	ln.Close()
}

func TestBuffer(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				b.Write([]byte("x"))
				_ = b.String()
			}
		})
	}
	wg.Wait()
	if got := b.String(); got != strings.Repeat("x", 400) {
		t.Errorf("%d bytes, want 400", len(got))
	}
}
