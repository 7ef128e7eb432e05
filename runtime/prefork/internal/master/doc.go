// Package master is the master's shell: the one goroutine (loop.go) that turns what
// happens to the process (signals, worker pipes and exits, control requests, time)
// into internal/supervisor's events and carries out its actions, and what hangs off
// it: starting workers and handing each its configuration over a pipe (spawn.go,
// handover.go), the USR2 upgrade (upgrade.go), systemd's notify protocol and
// watchdog (systemd.go, sdnotify.go), the control socket's server and the status
// report (control.go, status.go), the health probes (health.go), the privilege drop
// (privdrop.go), the process settings --chdir, -e, -D and -n (process.go), the metrics
// aggregate, listener and OTLP push (metrics_*.go), the pid file, the --reload file
// watch, the master's end of the worker wire (a status line becomes a typed
// supervisor event, a wait status a typed exit, once) and the signal constants of
// prefork's doc.go table.
//
// It takes its own Config (the settings, the parsed modes and the master's hooks),
// which runtime/prefork, its only importer, builds from the public Config. It
// decides nothing (that is internal/supervisor's) and serves no request.
package master
