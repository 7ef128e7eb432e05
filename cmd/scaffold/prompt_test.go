package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

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
	term.Answer(m, "Database", "sqlite\r")
	if code := term.ExitCode(0); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.Screen())
	}
	screen := term.Screen()
	if !strings.Contains(screen, "scaffold new shop --module github.com/acme/shop --port 8000 --workers 4 --db sqlite --yes") {
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
	term := startTerminal(t, dir, "new", "shop", "--module", "example.com/shop", "--workers", "2", "--db", "none")
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
	term.Answer(m, "Database", "\r")
	if code := term.ExitCode(0); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.Screen())
	}
	if screen := term.Screen(); !strings.Contains(screen, "scaffold new shop --module shop --port 8000 --workers 2 --db none --yes") {
		t.Errorf("equivalent command not printed; the terminal shows:\n%s", screen)
	}
	if _, err := os.Stat(filepath.Join(dir, "shop", "go.mod")); err != nil {
		t.Errorf("no project made: %v", err)
	}
}
