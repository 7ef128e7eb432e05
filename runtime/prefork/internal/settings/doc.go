// Package settings is the runtime's settings as plain data (Values: what the master
// hands each worker it starts, over the worker's configuration pipe, and what a reload
// replaces whole) and the error every refused value wraps (ErrInvalid). No funcs live
// here: the program's hooks are prefork.Hooks. The settings table, the Gunicorn-style
// parsing, the flags and the help still live in runtime/prefork (issue 23).
package settings
