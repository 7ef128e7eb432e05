package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// noGitUser is the environment without git's user.name and user.email, so the maintainer
// `scaffold new` offers is the placeholder, whoever runs the tests.
var noGitUser = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")

// placeholder is the equivalent command's --maintainer for the placeholder.
const placeholder = `--maintainer "Unknown Maintainer <unknown@maintainer.invalid>"`

// startTerminal runs the real scaffold command line on a pseudo-terminal.
func startTerminal(t *testing.T, dir string, args ...string) *testenv.Terminal {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Args = append([]string{"scaffold"}, args...) // testscript.Main dispatches on argv[0]
	cmd.Dir = dir
	cmd.Env = noGitUser
	return testenv.StartTerminal(t, cmd)
}

// TestPromptsOnATerminal answers the huh form for real: the typed module, worker count and
// database reach the project, the default port is kept, and the equivalent command is printed.
func TestPromptsOnATerminal(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "new", "shop")
	m := term.Answer(0, "Go module path", "github.com/acme/shop\r")
	m = term.Answer(m, "Development port", "\r") // keep the default
	m = term.Answer(m, "Production workers", "4\r")
	m = term.Answer(m, "Database", "sqlite\r")
	term.Answer(m, "Package maintainer", "Ada Lovelace <ada@example.com>\r")
	if code := term.ExitCode(0); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.Screen())
	}
	screen := term.Screen()
	if !strings.Contains(screen, `scaffold new shop --module github.com/acme/shop --port 8000 --workers 4 --db sqlite --maintainer "Ada Lovelace <ada@example.com>" --yes`) {
		t.Errorf("equivalent command not printed; the terminal shows:\n%s", screen)
	}
	gomod, err := os.ReadFile(filepath.Join(dir, "shop", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(gomod), "module github.com/acme/shop\n") || !strings.Contains(string(gomod), "modernc.org/sqlite ") {
		t.Errorf("go.mod = %q", gomod)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "shop", "config", "config.yaml"))
	if !strings.Contains(string(cfg), "workers: 4") || !strings.Contains(string(cfg), "127.0.0.1:8000") {
		t.Errorf("config.yaml lacks the answers:\n%s", cfg)
	}
}

// TestPromptRejectsBadAnswer shows the rule and keeps asking until the answer is valid.
func TestPromptRejectsBadAnswer(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "new", "shop", "--module", "example.com/shop", "--workers", "2", "--db", "none", "--maintainer", "Ada <ada@example.com>")
	m := term.Answer(0, "Development port", "99999\r")
	term.WaitSince(m, "out of range", 0)
	// Clear the field and type a valid port.
	term.Send(strings.Repeat("\x7f", 5) + "8081\r")
	if code := term.ExitCode(0); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.Screen())
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "shop", "config", "config.yaml"))
	if !strings.Contains(string(cfg), "127.0.0.1:8081") {
		t.Errorf("config.yaml lacks port 8081:\n%s", cfg)
	}
}

// TestPromptCancelWritesNothing: Ctrl-C at a prompt exits 130 and creates nothing.
func TestPromptCancelWritesNothing(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "new", "shop")
	term.Answer(0, "Go module path", "\x03")
	if code := term.ExitCode(0); code != 130 {
		t.Fatalf("exit code %d, want 130; the terminal shows:\n%s", code, term.Screen())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("cancel left %d entries behind", len(entries))
	}
}

// TestPromptsForNameOnATerminal: `scaffold new` without NAME asks for it first (a bad name
// shows the rule and is asked again), then for the rest.
func TestPromptsForNameOnATerminal(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "new")
	m := term.Answer(0, "Project name", "go\r")
	term.WaitSince(m, "reserved", 0)
	term.Send("\x7f\x7fshop\r")
	m = term.Answer(m, "Go module path", "\r")
	m = term.Answer(m, "Development port", "\r")
	m = term.Answer(m, "Production workers", "\r")
	m = term.Answer(m, "Database", "\r")
	term.Answer(m, "Package maintainer", "\r")
	if code := term.ExitCode(0); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.Screen())
	}
	if screen := term.Screen(); !strings.Contains(screen, "scaffold new shop --module shop --port 8000 --workers 2 --db none "+placeholder+" --yes") {
		t.Errorf("equivalent command not printed; the terminal shows:\n%s", screen)
	}
	if _, err := os.Stat(filepath.Join(dir, "shop", "go.mod")); err != nil {
		t.Errorf("no project made: %v", err)
	}
}

// TestPromptsOnATerminalWithoutSize: a terminal reporting 0x0 (docker exec -t before a
// resize) gets plain line prompts, with one line saying why, never a panic.
func TestPromptsOnATerminalWithoutSize(t *testing.T) {
	term, dir := startTerminalWith(t, testenv.TerminalOptions{}, "new", "shop")
	checkPlainPrompts(t, term, dir, "the terminal reports no size (0x0): asking line by line")
}

// TestPromptsOnATerminalThatAnswersNoQuery: a terminal that never answers the colour
// query gets plain line prompts, with one line saying why. Bubble Tea v1 asks that query
// once in its package init, before scaffold's main runs, and waits termenv's 5 s for it;
// scaffold's own probe adds at most 1 s, and nothing waits after that.
func TestPromptsOnATerminalThatAnswersNoQuery(t *testing.T) {
	start := time.Now()
	term, dir := startTerminalWith(t, testenv.TerminalOptions{Rows: 40, Cols: 120, Silent: true}, "new", "shop")
	term.WaitSince(0, "Go module path [shop]", 0)
	if waited := time.Since(start); waited > 12*time.Second { // 6 s and a loaded machine's start-up
		t.Errorf("the first prompt took %s, want the init's 5 s and the probe's 1 s at most", waited)
	}
	checkPlainPrompts(t, term, dir, "the terminal did not answer its colour query within 1s: asking line by line")
}

func startTerminalWith(t *testing.T, opts testenv.TerminalOptions, args ...string) (*testenv.Terminal, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(self)
	cmd.Args = append([]string{"scaffold"}, args...) // testscript.Main dispatches on argv[0]
	cmd.Dir = dir
	cmd.Env = noGitUser
	return testenv.StartTerminalWith(t, cmd, opts), dir
}

// checkPlainPrompts answers the line prompts of `scaffold new shop` (a bad port is refused
// with its rule and asked again) and checks the answers reach the project.
func checkPlainPrompts(t *testing.T, term *testenv.Terminal, dir, why string) {
	t.Helper()
	term.WaitSince(0, why, 0)
	m := term.Mark()
	term.WaitSince(0, "Go module path [shop]", 0)
	term.Send("example.com/shop\r")
	m = waitThen(term, m, "Development port [8000]", "99999\r")
	m = waitThen(term, m, "out of range", "8081\r")
	m = waitThen(term, m, "Production workers [2]", "\r")
	m = waitThen(term, m, "Database [none]", "\r")
	waitThen(term, m, "Package maintainer [Unknown Maintainer <unknown@maintainer.invalid>]", "\r")
	if code := term.ExitCode(0); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.Screen())
	}
	screen := term.Screen()
	if strings.Count(screen, why) != 1 || strings.Contains(screen, "panic") {
		t.Errorf("want the reason once and no panic; the terminal shows:\n%s", screen)
	}
	if !strings.Contains(screen, "scaffold new shop --module example.com/shop --port 8081 --workers 2 --db none "+placeholder+" --yes") {
		t.Errorf("equivalent command not printed; the terminal shows:\n%s", screen)
	}
	cfg, _ := os.ReadFile(filepath.Join(dir, "shop", "config", "config.yaml"))
	if !strings.Contains(string(cfg), "127.0.0.1:8081") {
		t.Errorf("config.yaml lacks port 8081:\n%s", cfg)
	}
}

// waitThen types keys once text has appeared after mark, and returns the new mark.
func waitThen(term *testenv.Terminal, mark int, text, keys string) int {
	term.WaitSince(mark, text, 0)
	next := term.Mark()
	term.Send(keys)
	return next
}
