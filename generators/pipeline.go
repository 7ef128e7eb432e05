// Package generators holds what every generator shares: an ordered pipeline of small named
// steps over one context (goreleaser's model), a set of rendered files, and the atomic
// writer that puts a set on disk.
package generators

import (
	"errors"
	"fmt"
)

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

// Run runs steps in order and stops at the first error, prefixed with the step's name.
func Run[C any](ctx C, steps []Step[C]) error {
	for _, s := range steps {
		if err := s.Run(ctx); err != nil {
			if errors.Is(err, ErrSkip) {
				continue
			}
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}
