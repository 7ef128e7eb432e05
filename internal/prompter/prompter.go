// Package prompter asks questions on a terminal. Commands depend on the Prompter interface,
// so tests answer for the user; the real one is a charmbracelet/huh form.
package prompter

import (
	"errors"
	"io"

	"github.com/charmbracelet/huh"

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

// Huh asks through a huh form on in/out.
type Huh struct {
	In  io.Reader
	Out io.Writer
}

// Ask shows every question in one form; Enter moves on, the last Enter submits, Ctrl-C
// cancels (cmdutil.ErrCancel).
func (h Huh) Ask(questions []Question) error {
	fields := make([]huh.Field, 0, len(questions))
	for _, q := range questions {
		q := q
		fields = append(fields, huh.NewInput().
			Title(q.Title).
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
	form := huh.NewForm(huh.NewGroup(fields...)).WithInput(h.In).WithOutput(h.Out).WithShowHelp(true)
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
