// Package prompter asks questions on a terminal. Commands depend on the Prompter interface,
// so tests answer for the user; the real one is a charmbracelet/huh form.
package prompter

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/charmbracelet/huh"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"

	"github.com/scaffoldgo/scaffold/internal/cmdutil"
)

// Question is one line of text to ask for. An empty answer takes Default.
type Question struct {
	Title       string
	Description string
	Default     string
	Validate    func(string) error
	Required    bool // an empty answer is refused instead of taking Default
	Answer      *string
}

// Prompter asks a group of questions at once.
type Prompter interface {
	Ask(questions []Question) error
}

// Huh asks through a huh form on In/Out. On a terminal the form cannot draw on (one that
// reports no size, or answers no query), it asks the same questions as plain lines, and
// says why once on ErrOut.
type Huh struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	once  sync.Once
	plain bool
}

// queryTimeout is how long a terminal has to answer the colour query before it is taken
// as one that answers none (huh would wait 5 s for it, showing nothing).
const queryTimeout = time.Second

// Ask shows every question in one form; Enter moves on, the last Enter submits, Ctrl-C
// cancels (cmdutil.ErrCancel).
func (h *Huh) Ask(questions []Question) error {
	h.once.Do(h.chooseMode)
	fields := make([]huh.Field, 0, len(questions))
	for _, q := range questions {
		q := q
		title := q.Title
		if h.plain && q.Default != "" {
			title += " [" + q.Default + "]" // a line prompt shows no placeholder
		}
		fields = append(fields, huh.NewInput().
			Title(title).
			Description(q.Description).
			Placeholder(q.Default).
			Value(q.Answer).
			Validate(func(s string) error {
				if s == "" && q.Required {
					return errors.New("required")
				}
				if s == "" || q.Validate == nil {
					return nil
				}
				return q.Validate(s)
			}))
	}
	form := huh.NewForm(huh.NewGroup(fields...)).WithInput(h.In).WithOutput(h.Out).WithShowHelp(true).WithAccessible(h.plain)
	if err := form.Run(); err != nil {
		if errors.Is(err, huh.ErrUserAborted) {
			return cmdutil.ErrCancel
		}
		return err
	}
	for _, q := range questions {
		if *q.Answer == "" {
			*q.Answer = q.Default
		}
	}
	return nil
}

// chooseMode decides, once, between the form and plain prompts. A terminal reporting 0x0
// makes the form panic (a zero-width slice); one that never answers the colour query
// leaves it blank for seconds.
func (h *Huh) chooseMode() {
	in, inOK := h.In.(*os.File)
	out, outOK := h.Out.(*os.File)
	if !inOK || !outOK {
		return
	}
	reason := ""
	if w, rows, err := term.GetSize(out.Fd()); err == nil && (w == 0 || rows == 0) {
		reason = fmt.Sprintf("the terminal reports no size (%dx%d)", w, rows)
	} else if !answersQueries(in, out, queryTimeout) {
		reason = fmt.Sprintf("the terminal did not answer its colour query within %s", queryTimeout)
	}
	if reason == "" {
		return
	}
	h.plain = true
	// Plain prompts still style their titles: settle the background here, so nothing
	// asks the terminal again.
	lipgloss.SetHasDarkBackground(true)
	if h.ErrOut != nil {
		fmt.Fprintf(h.ErrOut, "%s: asking line by line (Enter keeps the default).\n", reason)
	}
}
