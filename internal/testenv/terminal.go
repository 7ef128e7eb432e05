package testenv

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// Terminal runs a command on a pseudo-terminal, as a person at a shell would, and keeps
// everything it prints.
type Terminal struct {
	t    testing.TB
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
	read chan struct{} // closed when everything the command printed has been read
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[a-zA-Z]|\x1b[\]P][^\x07\x1b]*(\x07|\x1b\\)|\x1b[()][A-Z0-9]`)

// TerminalOptions say what kind of terminal StartTerminalWith gives the command.
type TerminalOptions struct {
	// Rows and Cols are the size the terminal reports; 0x0 is a terminal that reports
	// none (docker exec -t before its first resize, some CI pseudo-terminals).
	Rows, Cols uint16
	// Silent never answers the colour and cursor-position queries, as a terminal
	// (or a multiplexer in between) that does not know them.
	Silent bool
}

// StartTerminal starts cmd on a new 120x40 pseudo-terminal that answers queries as a
// real one does (TERM=xterm-256color, NO_COLOR=1 added to its environment) and kills it
// when the test ends.
func StartTerminal(t testing.TB, cmd *exec.Cmd) *Terminal {
	t.Helper()
	return StartTerminalWith(t, cmd, TerminalOptions{Rows: 40, Cols: 120})
}

// StartTerminalWith is StartTerminal on the terminal opts describe.
func StartTerminalWith(t testing.TB, cmd *exec.Cmd, opts TerminalOptions) *Terminal {
	t.Helper()
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "TERM=xterm-256color", "NO_COLOR=1")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: opts.Rows, Cols: opts.Cols})
	if err != nil {
		t.Fatal(err)
	}
	term := &Terminal{t: t, pty: f, cmd: cmd, done: make(chan error, 1), read: make(chan struct{})}
	go func() {
		defer close(term.read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			term.mu.Lock()
			term.out.Write(buf[:n])
			term.mu.Unlock()
			if !opts.Silent {
				answerQueries(f, buf[:n])
			}
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

// Screen is everything printed so far, without escape sequences.
func (term *Terminal) Screen() string {
	term.mu.Lock()
	defer term.mu.Unlock()
	return ansi.ReplaceAllString(term.out.String(), "")
}

// Mark is how much the terminal has printed so far, for WaitSince.
func (term *Terminal) Mark() int {
	term.mu.Lock()
	defer term.mu.Unlock()
	return term.out.Len()
}

// WaitSince waits up to timeout (15 s when 0) until text is printed after mark.
func (term *Terminal) WaitSince(mark int, text string, timeout time.Duration) {
	term.t.Helper()
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		term.mu.Lock()
		since := ansi.ReplaceAllString(term.out.String()[mark:], "")
		term.mu.Unlock()
		if strings.Contains(since, text) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	term.t.Fatalf("%q never appeared on the terminal; it shows:\n%s", text, term.Screen())
}

// Answer types keys once the huh field titled title has the focus (after mark). The form
// draws every field at once and repaints a field's title with the "┃" focus bar when it
// gets the focus, so waiting for "┃ Title" means the keys reach that field (typing on
// sight of the unfocused title raced the form on a loaded machine).
func (term *Terminal) Answer(mark int, title, keys string) int {
	term.t.Helper()
	term.WaitSince(mark, "┃ "+title, 0)
	next := term.Mark()
	term.Send(keys)
	return next
}

// Send types keys one at a time, as a person types: forms read keys, not lines.
func (term *Terminal) Send(keys string) {
	term.t.Helper()
	for _, r := range keys {
		if _, err := io.WriteString(term.pty, string(r)); err != nil {
			term.t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ExitCode waits up to timeout (20 s when 0) for the command to end and returns its exit
// code, -1 when a signal ended it.
func (term *Terminal) ExitCode(timeout time.Duration) int {
	term.t.Helper()
	if timeout == 0 {
		timeout = 20 * time.Second
	}
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
	case <-time.After(timeout):
		term.t.Fatalf("%s did not exit; the terminal shows:\n%s", term.cmd.Path, term.Screen())
		return -1
	}
}

// answerQueries replies as a real terminal does to the background-colour (OSC 11) and
// cursor-position queries huh sends, which would otherwise wait for a time-out.
func answerQueries(f *os.File, chunk []byte) {
	if bytes.Contains(chunk, []byte("\x1b]11;?")) {
		_, _ = io.WriteString(f, "\x1b]11;rgb:1c1c/1c1c/1c1c\x1b\\")
	}
	if bytes.Contains(chunk, []byte("\x1b[6n")) {
		_, _ = io.WriteString(f, "\x1b[1;1R")
	}
}
