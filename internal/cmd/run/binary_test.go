//go:build linux

package run_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

var ansi = regexp.MustCompile("\x1b\\[[0-9;]*m")

// waitOutput waits until re matches out (colours stripped) and returns the submatches.
func waitOutput(t *testing.T, out *testenv.Buffer, re *regexp.Regexp, d time.Duration) []string {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if m := re.FindStringSubmatch(ansi.ReplaceAllString(out.String(), "")); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in the output within %s:\n%s", re, d, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// gone reports whether pid no longer runs (a zombie awaiting its reaper counts as gone).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

func waitGone(t *testing.T, pid int, addr string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		if gone(pid) && err != nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("within %s: app pid %d gone=%v, %s refused=%v", d, pid, gone(pid), addr, err != nil)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBinaryOnTerminal runs the real scaffold binary on a pseudo-terminal: compiler errors
// come coloured with a bold file:line, the terminal's Ctrl-C stops it with exit 0 and
// leaves no app and no listener; and a runner killed outright takes its app with it.
func TestBinaryOnTerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds scaffold and a generated project")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "scaffold")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/scaffoldgo/scaffold/cmd/scaffold").CombinedOutput(); err != nil {
		t.Fatalf("go build scaffold: %v\n%s", err, out)
	}
	dir := filepath.Join(tmp, "demo")
	pc, err := project.Generate(project.Options{Name: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	if err := state.Commit(pc.Files, dir, false); err != nil {
		t.Fatal(err)
	}
	env := testenv.OfflineGoEnv("TERM=xterm")
	env = slicesDelete(env, "NO_COLOR")
	addr := testenv.FreeAddr(t)
	ready := regexp.MustCompile(`build (\d+) ready in \S+ \(pid (\d+)\)`)

	// On a terminal.
	cmd := exec.Command(bin, "run", "--dev", "-b", addr)
	cmd.Dir, cmd.Env = dir, env
	term, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer term.Close()
	var out testenv.Buffer
	go io.Copy(&out, term)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	m := waitOutput(t, &out, ready, 90*time.Second)
	pid, _ := strconv.Atoi(m[2])
	handler := filepath.Join(dir, "web", "home", "home.go")
	orig, err := os.ReadFile(handler)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = `App: d.Site.Name,` // /api/hello's answer
	if !bytes.Contains(orig, []byte(anchor)) {
		t.Fatalf("%s no longer contains %q; the test breaks that line", handler, anchor)
	}
	os.WriteFile(handler, bytes.Replace(orig, []byte(anchor), []byte(`App: d.Site.Name + ,`), 1), 0o644)
	waitOutput(t, &out, regexp.MustCompile(`failed .*\n(?:.*\n)*?\s+(web/home/home\.go:\d+:\d+):`), 60*time.Second)
	if !regexp.MustCompile("\x1b\\[1mweb/home/home\\.go:\\d+:\\d+\x1b\\[0m:\x1b\\[31m").MatchString(out.String()) {
		t.Errorf("the compiler error is not coloured (bold file:line, red message) on a terminal:\n%q", out.String())
	}
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatalf("the previous build stopped serving after a failed one: %v", err)
	}
	resp.Body.Close()
	os.WriteFile(handler, orig, 0o644) // the next run starts from a good tree

	term.Write([]byte{3}) // Ctrl-C: the terminal sends INT to scaffold's process group
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("scaffold after Ctrl-C: %v, want exit 0\n%s", err, out.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("scaffold still runs 20s after Ctrl-C:\n%s", out.String())
	}
	waitGone(t, pid, addr, 5*time.Second)

	// Killed outright: the app gets TERM (parent-death signal) and frees the port.
	cmd = exec.Command(bin, "run", "--dev", "-b", addr)
	cmd.Dir, cmd.Env = dir, env
	var out2 testenv.Buffer
	cmd.Stdout, cmd.Stderr = &out2, &out2
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	m = waitOutput(t, &out2, ready, 90*time.Second)
	pid, _ = strconv.Atoi(m[2])
	cmd.Process.Kill()
	cmd.Wait()
	waitGone(t, pid, addr, 10*time.Second)
}

func slicesDelete(env []string, key string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, key+"=") {
			out = append(out, kv)
		}
	}
	return out
}
