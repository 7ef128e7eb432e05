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
		var st supervisor.WorkerStats
		var ms int64
		if _, err := fmt.Sscanf(arg, "%d %d %d", &st.Requests, &st.InFlight, &ms); err != nil {
			return supervisor.EvBadMessage{ID: id, Line: line}
		}
		st.OldestRequest = time.Duration(ms) * time.Millisecond
		return supervisor.EvHeartbeat{ID: id, Stats: st}
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
