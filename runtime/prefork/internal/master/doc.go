// Package master holds the OS-facing pieces of the master's shell that need none of
// the public Config: the systemd notify protocol and its watchdog, the pid file, the
// --reload file watch, the master's end of the worker wire (a status line becomes a
// typed supervisor event, a wait status a typed exit, once) and the signal constants
// of doc.go's table. runtime/prefork is its only importer; it decides nothing (that is
// internal/supervisor's) and serves nothing.
package master
