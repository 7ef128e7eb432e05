// Package settings is the runtime's settings as plain data and their rules: today the
// error every refused value wraps (ErrInvalid). The settings table, the Gunicorn-style
// parsing, the flags and the help still live in runtime/prefork (issue 23: they move
// here as Config splits into settings data, hooks and parser state).
package settings
