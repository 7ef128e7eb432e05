package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// terminal runs the real scaffold command line on a pseudo-terminal.
type terminal struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
	read chan struct{} // closed when everything the command printed has been read
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]|\x1b[\]P][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]`)

func startTerminal(t *testing.T, dir string, args ...string) *terminal {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Args = append([]string{"scaffold"}, args...) // testscript.Main dispatches on argv[0]
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "NO_COLOR=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	term := &terminal{t: t, pty: f, cmd: cmd, done: make(chan error, 1), read: make(chan struct{})}
	go func() {
		defer close(term.read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			answerQueries(f, buf[:n])
			if err != nil {
				return
			}
		}
	}()
	go func() { term.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		f.Close()
	})
	return term
}

// screen is everything printed so far, without escape sequences.
func (term *terminal) screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return ansi.ReplaceAllString(term.out.String(), "")
}

// mark is how much the terminal has printed so far, for waitSince.
func (term *terminal) mark() int {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.Len()
}

// waitSince waits until text is printed after mark. The form draws every field at once
// and repaints a field's title with the "┃" focus bar when it gets the focus, so waiting
// for "┃ Title" after the previous answer means the next keys reach that field (typing
// on sight of the unfocused title raced the form on a loaded machine).
func (term *terminal) waitSince(mark int, text string) {
	term.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		since := ansi.ReplaceAllString(term.out.String()[mark:], "")
		term.mu.Unlock()
		if strings.Contains(since, text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	term.t.Fatalf("%q never appeared on the terminal; it shows:\n%s", text, term.screen())
}

// answer types keys once the field titled title has the focus (after mark).
func (term *terminal) answer(mark int, title, keys string) int {
	term.t.Helper()
	term.waitSince(mark, "┃ "+title)
	next := term.mark()
	term.send(keys)
	return next
}

func (term *terminal) send(keys string) {
	term.t.Helper()
	// One key at a time, as a person types: the form reads keys, not lines.
	for _, r := range keys {
		if _, err := io.WriteString(term.pty, string(r)); err != nil {
			term.t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (term *terminal) exitCode() int {
	term.t.Helper()
	select {
	case err := <-term.done:
		// The exit can come before the last output is read off the pty: drain it
		// (the read ends once the child's side is closed and emptied).
		select {
		case <-term.read:
		case <-time.After(5 * time.Second):
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return exit.ExitCode()
		}
		if err != nil {
			term.t.Fatal(err)
		}
		return 0
	case <-time.After(20 * time.Second):
		term.t.Fatalf("scaffold did not exit; the terminal shows:\n%s", term.screen())
		return -1
	}
}

// TestPromptsOnATerminal answers the huh form for real: the typed module, worker count and
// database reach the project, the default port is kept, and the equivalent command is printed.
func TestPromptsOnATerminal(t *testing.T) {
	dir := t.TempDir()
	term := startTerminal(t, dir, "new", "shop")
	m := term.answer(0, "Go module path", "github.com/acme/shop\r")
	m = term.answer(m, "Development port", "\r") // keep the default
	m = term.answer(m, "Production workers", "4\r")
	term.answer(m, "Database", "sqlite\r")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.screen())
	}
	screen := term.screen()
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
	m := term.answer(0, "Development port", "99999\r")
	term.waitSince(m, "out of range")
	// Clear the field and type a valid port.
	term.send(strings.Repeat("\x7f", 5) + "8081\r")
	if code := term.exitCode(); code != 0 {
		t.Fatalf("exit code %d; the terminal shows:\n%s", code, term.screen())
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
	term.answer(0, "Go module path", "\x03")
	if code := term.exitCode(); code != 130 {
		t.Fatalf("exit code %d, want 130; the terminal shows:\n%s", code, term.screen())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Fatalf("cancel left %d entries behind", len(entries))
	}
}

// answerQueries replies as a real terminal does to the background-colour (OSC 11) and
// cursor-position queries the form sends, which would otherwise wait for a time-out.
func answerQueries(f *os.File, chunk []byte) {
	if bytes.Contains(chunk, []byte("\x1b]11;?")) {
		_, _ = io.WriteString(f, "\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\")
	}
	if bytes.Contains(chunk, []byte("\x1b[6n")) {
		_, _ = io.WriteString(f, "\x1b[1;1R")
	}
}
