package prefork

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// The control socket's client. The master's side, and the status report's
// types, are internal/master's.

// Status is the master's status report, served on the control socket.
type Status = master.Status

// CanaryReport is a running canary in a Status.
type CanaryReport = master.CanaryReport

// CanaryDecision is how the last canary ended, in a Status.
type CanaryDecision = master.CanaryDecision

// GenerationFigs are one side's figures over a canary's window.
type GenerationFigs = master.GenerationFigs

// WorkerReport is one worker in a Status.
type WorkerReport = master.WorkerReport

// Control commands understood by the control socket. The status
// subcommand of a generated binary maps scale-up/scale-down to ttin/ttou.
const (
	ControlStatus = master.ControlStatus
	ControlReload = master.ControlReload
	ControlTTIN   = master.ControlTTIN
	ControlTTOU   = master.ControlTTOU
)

// Control sends one command (status, reload, ttin, ttou) to the master
// listening on socketPath and returns its status report.
func Control(socketPath, command string) (Status, error) {
	c, err := net.DialTimeout("unix", socketPath, master.ControlTimeout)
	if err != nil {
		return Status{}, fmt.Errorf("prefork: control socket %s: %w (is the server running, with --control-socket %s?)", socketPath, err, socketPath)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(master.ControlTimeout))
	if _, err := io.WriteString(c, command+"\n"); err != nil {
		return Status{}, fmt.Errorf("prefork: control socket %s: %w", socketPath, err)
	}
	var reply master.ControlReply
	if err := json.NewDecoder(c).Decode(&reply); err != nil {
		return Status{}, fmt.Errorf("prefork: control socket %s: bad reply: %w", socketPath, err)
	}
	if !reply.OK {
		return Status{}, fmt.Errorf("prefork: %s: %s", command, reply.Error)
	}
	if reply.Status == nil {
		return Status{}, fmt.Errorf("prefork: %s: reply without status", command)
	}
	return *reply.Status, nil
}

// ControlUsage documents the subcommands RunControlCommand handles.
const ControlUsage = `status [--json]    show the master and every worker
reload [--wait]    rolling restart of the workers (like kill -HUP); --wait returns once
                   the new generation is promoted or rolled back (a canary), exit
                   status 1 on a rollback, an abandoned reload or a bad configuration
scale-up [N]       N more workers (default 1, like kill -TTIN)
scale-down [N]     N fewer workers, never below 1 (like kill -TTOU)
Each takes --control-socket PATH (default: the configured one).`

// controlSubcommands are RunControlCommand's subcommands, in ControlUsage's
// order, with the control socket's command each sends.
var controlSubcommands = []struct{ name, command string }{
	{"status", ControlStatus}, {"reload", ControlReload}, {"scale-up", ControlTTIN}, {"scale-down", ControlTTOU},
}

// controlCommand is the control socket's command for subcommand name, or "".
func controlCommand(name string) string {
	for _, c := range controlSubcommands {
		if c.name == name {
			return c.command
		}
	}
	return ""
}

// IsControlCommand reports whether args[0] is a subcommand RunControlCommand
// handles, so a program looks up the control socket only then.
func IsControlCommand(args []string) bool {
	return len(args) > 0 && controlCommand(args[0]) != ""
}

// RunControlCommand runs a control subcommand from a program's arguments,
// for a production entry point such as:
//
//	if handled, err := prefork.RunControlCommand(os.Args[1:], cfg.ControlSocket, os.Stdout); handled {
//		if err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
//		return
//	}
//
// args[0] is the subcommand: status, reload, scale-up or scale-down (see
// ControlUsage); anything else returns handled=false and the program goes
// on to serve. After a change the resulting status is printed as a table.
func RunControlCommand(args []string, socketPath string, stdout io.Writer) (handled bool, err error) {
	if !IsControlCommand(args) {
		return false, nil
	}
	command := controlCommand(args[0])
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&socketPath, "control-socket", socketPath, "path of the master's control socket")
	asJSON := fs.Bool("json", false, "print the status as JSON")
	wait := fs.Bool("wait", false, "reload: return when the reload is decided; exit status 1 unless it was promoted")
	waitLimit := fs.Duration("wait-timeout", 30*time.Minute, "reload --wait: give up after this long")
	var rest []string // positional arguments, flags allowed before and after them
	for remaining := args[1:]; ; {
		if err := fs.Parse(remaining); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "usage:\n%s\n", ControlUsage)
				return true, nil
			}
			return true, fmt.Errorf("%s: %v\nusage:\n%s", args[0], err, ControlUsage)
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		remaining = fs.Args()[1:]
	}
	if socketPath == "" {
		return true, fmt.Errorf("%s: no control socket configured: pass --control-socket PATH (the server must run with the same)", args[0])
	}
	times := 1
	if len(rest) > 0 {
		n, err := strconv.Atoi(rest[0])
		if len(rest) > 1 || err != nil || n < 1 || n > 1000 || (command != ControlTTIN && command != ControlTTOU) {
			return true, fmt.Errorf("%s: unexpected argument %q\nusage:\n%s", args[0], strings.Join(rest, " "), ControlUsage)
		}
		times = n
	}
	if *wait && command != ControlReload {
		return true, fmt.Errorf("%s: --wait goes with reload only\nusage:\n%s", args[0], ControlUsage)
	}
	var st Status
	for i := 0; i < times; i++ {
		if st, err = Control(socketPath, command); err != nil {
			return true, err
		}
	}
	var waitErr error
	if command == ControlReload {
		waitErr = reloadRefused(st)
	}
	if *wait && waitErr == nil {
		st, waitErr = waitForReload(socketPath, st, *waitLimit)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(st)
	} else {
		err = st.WriteTable(stdout)
	}
	return true, errors.Join(waitErr, err)
}

// waitForReload polls the master after a reload (st: its answer to it)
// until the reload is decided: promoted, or the rolling replacement done,
// is nil; a rollback, an abandoned generation or a configuration that did
// not load is the error.
func waitForReload(socketPath string, st Status, limit time.Duration) (Status, error) {
	if st.ReloadError != "" {
		return st, fmt.Errorf("reload: the configuration did not load, nothing changed: %s", st.ReloadError)
	}
	gen, deadline := st.Newest, time.Now().Add(limit)
	for st.Phase == supervisor.MasterReloading.String() || st.Phase == supervisor.MasterCanary.String() {
		if time.Now().After(deadline) {
			return st, fmt.Errorf("reload: generation %d not decided within %s (phase %s)", gen, limit, st.Phase)
		}
		time.Sleep(200 * time.Millisecond)
		var err error
		if st, err = Control(socketPath, ControlStatus); err != nil {
			return st, fmt.Errorf("reload: waiting for generation %d: %w", gen, err)
		}
	}
	if d := st.LastCanary; d != nil && d.Generation == gen && d.Decision == supervisor.CanaryRollback {
		return st, fmt.Errorf("reload: generation %d rolled back (%s): %s", gen, d.Reason, d.Detail)
	}
	if st.Generation < gen {
		return st, fmt.Errorf("reload: generation %d did not take over (it failed to boot, or the master stops: see its log); generation %d serves", gen, st.Generation)
	}
	return st, nil
}
