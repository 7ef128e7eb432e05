// Package cmdutil holds what every command shares: the factory of dependencies and the
// typed errors that decide the exit code.
package cmdutil

import (
	"errors"
	"fmt"
)

// FlagError is a usage mistake: the command prints its usage after the message.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

// FlagErrorf builds a FlagError.
func FlagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// ErrSilent means the command already reported the failure: exit non-zero, print nothing more.
var ErrSilent = errors.New("silent error")

// ErrCancel means the user cancelled a prompt.
var ErrCancel = errors.New("cancelled")
