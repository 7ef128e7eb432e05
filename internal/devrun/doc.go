// Package devrun is the dev loop behind `scaffold run --dev`: it watches a generated
// project, rebuilds its development entry (./run) on each save and swaps the running
// process without refusing a request.
//
// The runner binds the listening socket itself and keeps it for its whole life. Each build
// starts as a new child that inherits the socket through the runtime's hand-over protocol
// (prefork.ListenerFiles, prefork.InheritEnv) and reports READY=1 on a private
// $NOTIFY_SOCKET; only then is the previous child sent SIGTERM. Connections that arrive
// while no child accepts wait in the socket's backlog.
//
// # Invariants
//
//   - At any time there are at most two children: the serving one and one starting;
//     the serving one is stopped only after the starting one reported ready.
//   - A failed build, or a new child that exits or stays silent before ready, leaves the
//     serving child alone.
//   - Every child runs in its own process group; stopping it signals the group (TERM, then
//     KILL after the grace period), so nothing the app started outlives it.
//   - When Run returns, no child is left and the listener is closed.
//
// One goroutine (the loop in runner.go) owns all state; the watcher, the builds and the
// children report to it over channels.
package devrun
