package master

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// The master's side of the worker protocol: status lines become typed
// supervisor events here, and only here; commands are written as their
// String form. A worker's end is classified here too, once, from its wait
// status.

// statusEvent parses one line of worker id's status pipe.
func StatusEvent(id int, line string) supervisor.Event {
	verb, arg, _ := strings.Cut(line, " ")
	switch verb {
	case supervisor.MsgReady:
		return supervisor.EvReady{ID: id}
	case supervisor.MsgHeartbeat:
		st, sv, ok := parseHeartbeat(arg)
		if !ok {
			return supervisor.EvBadMessage{ID: id, Line: line}
		}
		return supervisor.EvHeartbeat{ID: id, Stats: st, Served: sv}
	case supervisor.MsgMetrics: // decoded by the aggregator (metrics_agg.go), which knows the buckets
		return supervisor.EvMetrics{ID: id, Report: arg}
	case supervisor.MsgFail:
		return supervisor.EvFailed{ID: id, Msg: unquote(arg)}
	case supervisor.MsgExiting:
		return supervisor.EvExiting{ID: id, Reason: unquote(arg)}
	case supervisor.MsgDumped:
		return supervisor.EvDumped{ID: id}
	}
	return supervisor.EvBadMessage{ID: id, Line: line}
}

// HeartbeatLine is a worker's heartbeat on the status pipe:
//
//	hb <requests> <in-flight> <oldest-ms> <served>
//
// with served as ServedText writes it. A master reads a heartbeat of the
// first three fields alone (a worker of an older binary) as having served
// nothing it can judge.
func HeartbeatLine(st supervisor.WorkerStats, sv supervisor.Served) string {
	return fmt.Sprintf("%s %d %d %d %s", supervisor.MsgHeartbeat, st.Requests, st.InFlight, st.OldestRequest.Milliseconds(), ServedText(sv))
}

// ServedText writes what was served (a canary's figures): "<completed>
// <failed> <latency>", latency sparse as "bucket:count,..." ("-" when empty).
// The heartbeat carries it, and the upgrade pipe the old master's totals.
func ServedText(sv supervisor.Served) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %d ", sv.Requests, sv.Errors)
	sep := ""
	for i, c := range sv.Latency {
		if c > 0 {
			fmt.Fprintf(&b, "%s%d:%d", sep, i, c)
			sep = ","
		}
	}
	if sep == "" {
		b.WriteString("-")
	}
	return b.String()
}

func parseHeartbeat(arg string) (st supervisor.WorkerStats, sv supervisor.Served, ok bool) {
	f := strings.Fields(arg)
	if len(f) != 3 && len(f) != 6 {
		return st, sv, false
	}
	n, ok := naturals(f[:3])
	if !ok {
		return st, sv, false
	}
	st.Requests, st.InFlight, st.OldestRequest = n[0], int(n[1]), time.Duration(n[2])*time.Millisecond
	if len(f) == 6 {
		sv, ok = ParseServed(strings.Join(f[3:], " "))
	}
	return st, sv, ok
}

// ParseServed reads ServedText's form.
func ParseServed(text string) (sv supervisor.Served, ok bool) {
	f := strings.Fields(text)
	if len(f) != 3 {
		return sv, false
	}
	n, ok := naturals(f[:2])
	if !ok {
		return sv, false
	}
	sv.Requests, sv.Errors = n[0], n[1]
	if f[2] == "-" {
		return sv, true
	}
	for _, bc := range strings.Split(f[2], ",") {
		b, c, found := strings.Cut(bc, ":")
		i, err1 := strconv.Atoi(b)
		v, err2 := strconv.ParseInt(c, 10, 64)
		if !found || err1 != nil || err2 != nil || i < 0 || i >= supervisor.LatencyBuckets || v < 0 {
			return sv, false
		}
		sv.Latency[i] = v
	}
	return sv, true
}

// naturals reads whole numbers of at least 0.
func naturals(f []string) ([]int64, bool) {
	n := make([]int64, len(f))
	for i, s := range f {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return nil, false
		}
		n[i] = v
	}
	return n, true
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// exitOf classifies how a reaped worker ended from its process state; err
// is Wait's error (an I/O error copying its output, or none).
func ExitOf(ps *os.ProcessState, err error) supervisor.Exit {
	if ps == nil {
		desc := "unknown exit"
		if err != nil {
			desc = err.Error()
		}
		return supervisor.Exit{Code: -1, Signal: supervisor.SignalOther, Desc: desc}
	}
	ex := supervisor.Exit{Code: ps.ExitCode(), Desc: ps.String()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		ex.Desc = err.Error()
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		ex.Signal = supervisor.SignalOther
		if ws.Signal() == syscall.SIGKILL {
			ex.Signal = supervisor.SignalKill
		}
	}
	return ex
}

// masterSignals are the signals the master handles, by their meaning.
var MasterSignals = map[os.Signal]supervisor.Signal{
	syscall.SIGTERM: supervisor.SigTerm, syscall.SIGINT: supervisor.SigInt, syscall.SIGQUIT: supervisor.SigQuit,
	syscall.SIGHUP: supervisor.SigHup, SigTTIN: supervisor.SigTTIN, SigTTOU: supervisor.SigTTOU,
	SigUSR1: supervisor.SigUSR1, SigUSR2: supervisor.SigUSR2,
}
