// Package supervisor is the master's whole lifecycle policy as a state machine: no
// processes, signals, sockets or clock of its own. The master's shell (the loop in
// runtime/prefork) steps a Supervisor with events (Step), each with the current time,
// and carries out the Actions it returns: spawn, send a word on a worker's pipe, signal,
// log, notify systemd, record a metric. Readers get views (CountServing, Stopping,
// Workers' records) on the loop's goroutine.
//
// It imports no os/exec, syscall, net or os/signal (runtime/prefork's tree test pins
// that), so every rule is a table test on a fake clock.
package supervisor
