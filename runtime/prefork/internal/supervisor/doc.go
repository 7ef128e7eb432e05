// Package supervisor is the master's whole lifecycle policy as a state
// machine: no processes, signals, sockets or clock of its own. The master's
// shell (the loop in runtime/prefork) steps a Supervisor with typed events
// (Step), each with the current time, and carries out the typed Actions it
// returns with a type switch: start a worker, send it a command, signal it,
// log, notify systemd, record a metric.
//
// The master has one phase (MasterPhase: starting, serving, reloading,
// canary, upgrading, delaying, stopping, handed over, quitting); each worker
// has one (Phase). A reload's rollout is the current generation replacing
// the older ones; with a canary window it is first a canary (canary.go),
// judged on the workers' served figures (latency.go) and promoted or rolled
// back. Nothing here parses a string: the shell turns the worker's
// status lines, its wait status and the master's signals into events.
// Readers (status, metrics, health, STATUS=) get View, a value published
// after each step, never the supervisor's fields.
//
// Its invariants (the tests' checkInvariants) are checked after every step
// of every table test and of FuzzSupervisor's random event sequences.
//
// It imports no os/exec, syscall, net or os/signal (runtime/prefork's tree
// test pins that), so every rule is a table test on a fake clock.
package supervisor
