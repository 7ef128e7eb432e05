// Package generators holds what every generator shares: an ordered pipeline of small named
// steps over one context (goreleaser's model) and the set of files a generator renders.
// What writing a set into a project does, and the atomic commit, are generators/state's.
package generators

import "errors"

// Step is one stage of a generator. String names it in errors.
type Step[C any] interface {
	String() string
	Run(ctx C) error
}

// ErrSkip, returned by a step, means the step does not apply; the pipeline goes on.
var ErrSkip = errors.New("skipped")

// StepFunc makes a Step from a name and a function.
type StepFunc[C any] struct {
	Name string
	Fn   func(ctx C) error
}

func (s StepFunc[C]) String() string  { return s.Name }
func (s StepFunc[C]) Run(ctx C) error { return s.Fn(ctx) }

// StepError is a step's failure. Its message is the step's own, which names the file or
// the answer at fault: a step's name is scaffold's internals, not the user's words ("read
// project:"). Step keeps it for tests and debugging.
type StepError struct {
	Step string
	Err  error
}

func (e *StepError) Error() string { return e.Err.Error() }
func (e *StepError) Unwrap() error { return e.Err }

// Run runs steps in order and stops at the first error, a *StepError naming the step.
func Run[C any](ctx C, steps []Step[C]) error {
	for _, s := range steps {
		if err := s.Run(ctx); err != nil {
			if errors.Is(err, ErrSkip) {
				continue
			}
			return &StepError{Step: s.String(), Err: err}
		}
	}
	return nil
}
