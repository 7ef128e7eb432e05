package project

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestMakeRunCtrlC: Ctrl-C on `make run`, on a terminal as a developer presses it, stops
// the server and make says nothing more (`go run` exited 1 on an interrupt, which make
// reported as "make: *** [Makefile:26: run] Error 1").
func TestMakeRunCtrlC(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project; skipped with -short")
	}
	makeBin := testenv.Tool(t, "make")
	bash := testenv.Tool(t, "bash")
	dir := generateInto(t, Options{Name: "demo"})
	goCmd(t, dir, "build", "-o", os.DevNull, "./run") // warm the build cache: make run builds again
	addr := testenv.FreeAddr(t)
	// From a shell, as a user types it: bash starts make with an empty signal mask, where
	// this test process may have inherited SIGCHLD blocked (make then fails on its own
	// "wait: No child processes", which no user sees).
	cmd := exec.Command(bash, "-c", `"$0" run BIND="$1"; exit $?`, makeBin, addr)
	cmd.Dir = dir
	cmd.Env = testenv.OfflineGoEnv()
	term := testenv.StartTerminal(t, cmd)
	term.WaitSince(0, "msg=serving", 60*time.Second)
	m := term.Mark()
	term.Send("\x03")
	term.ExitCode(30 * time.Second)
	after := term.Screen()[m:]
	// GNU make 4.3 has a race of its own: its SIGINT handler may wait for a child that its
	// main loop has just reaped, and print "wait: No child processes" (seen once on a loaded
	// machine). What the app controls, and what this test guards, is its exit status: an
	// "Error 1" or "exit status" line means the server did not exit 0 on Ctrl-C.
	if strings.Contains(after, "Error ") || strings.Contains(after, "exit status") || strings.Contains(after, "Interrupt") {
		t.Errorf("Ctrl-C on make run printed an error:\n%s", after)
	}
	if strings.Contains(after, "wait: No child processes") {
		t.Logf("make's own SIGINT race showed:\n%s", after)
	}
	if !strings.Contains(after, "msg=stopped") {
		t.Errorf("the server did not log its stop:\n%s", after)
	}
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s still answers after Ctrl-C", addr)
	}
}

// TestMakeDevWithoutScaffold: `make dev` (and `make package-units`) without scaffold on
// PATH says how to install it instead of make's "scaffold: No such file or directory".
func TestMakeDevWithoutScaffold(t *testing.T) {
	makeBin := testenv.Tool(t, "make")
	dir := generateInto(t, Options{Name: "demo", Version: "v1.2.3"})
	for _, target := range []string{"dev", "package-units"} {
		cmd := exec.Command(makeBin, target, "SCAFFOLD=scaffold-not-installed")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Fatalf("make %s without scaffold succeeded:\n%s", target, out)
		}
		for _, want := range []string{
			"scaffold-not-installed is not on PATH: install it with",
			"go install " + ScaffoldModule + "/cmd/scaffold@v1.2.3",
			"make " + target + " SCAFFOLD=/path/to/scaffold",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("make %s without scaffold does not say %q:\n%s", target, want, out)
			}
		}
	}
}
