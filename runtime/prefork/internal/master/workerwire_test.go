package master

import (
	"os/exec"
	"reflect"
	"runtime"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// The worker's status lines become typed events in the shell, once.
func TestStatusEventParsesTheWorkerProtocol(t *testing.T) {
	for _, tc := range []struct {
		line string
		want supervisor.Event
	}{
		{"ready", supervisor.EvReady{ID: 3}},
		{"hb 7 2 1500", supervisor.EvHeartbeat{ID: 3, Stats: supervisor.WorkerStats{Requests: 7, InFlight: 2, OldestRequest: 1500 * time.Millisecond}}},
		{`fail "config: missing DSN"`, supervisor.EvFailed{ID: 3, Msg: "config: missing DSN"}},
		{`exiting "received terminated"`, supervisor.EvExiting{ID: 3, Reason: "received terminated"}},
		{"dumped", supervisor.EvDumped{ID: 3}},
		{"hb seven", supervisor.EvBadMessage{ID: 3, Line: "hb seven"}},
		{"hello", supervisor.EvBadMessage{ID: 3, Line: "hello"}},
	} {
		if got := StatusEvent(3, tc.line); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %#v, want %#v", tc.line, got, tc.want)
		}
	}
	if got, want := StatusEvent(3, "metrics r=1"), (supervisor.EvMetrics{ID: 3, Report: "r=1"}); got != want {
		t.Errorf("metrics line: got %#v, want %#v (the report, for the aggregator)", got, want)
	}
}

// A heartbeat carries what the worker served (a canary's figures) and
// reads back the same; a heartbeat of an older worker (three fields) too.
func TestHeartbeatLineRoundTrips(t *testing.T) {
	st := supervisor.WorkerStats{Requests: 12, InFlight: 1, OldestRequest: 40 * time.Millisecond}
	var sv supervisor.Served
	sv.Requests, sv.Errors = 11, 3
	sv.Latency[0], sv.Latency[77], sv.Latency[supervisor.LatencyBuckets-1] = 2, 8, 1
	line := HeartbeatLine(st, sv)
	if got := StatusEvent(4, line); !reflect.DeepEqual(got, supervisor.EvHeartbeat{ID: 4, Stats: st, Served: sv}) {
		t.Fatalf("%q read back as %#v", line, got)
	}
	if line := HeartbeatLine(supervisor.WorkerStats{Requests: 5}, supervisor.Served{}); line != "hb 5 0 0 0 0 -" {
		t.Fatalf("an idle worker's heartbeat is %q", line)
	}
	for _, bad := range []string{"hb 1 0 0 1 0 160:1", "hb 1 0 0 1 0 3:-1", "hb 1 0 0 1 0 3", "hb 1 0 0 1 0", "hb 1 0 0 -1 0 -"} {
		if _, ok := StatusEvent(4, bad).(supervisor.EvBadMessage); !ok {
			t.Errorf("%q read as a heartbeat", bad)
		}
	}
}

// How a worker ended is read from its wait status, never from text.
func TestExitOfClassifiesTheWaitStatus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("wait statuses with signals are unix")
	}
	for _, tc := range []struct {
		script string
		want   supervisor.Exit
	}{
		{"exit 0", supervisor.Exit{Code: 0, Desc: "exit status 0"}},
		{"exit 3", supervisor.Exit{Code: 3, Desc: "exit status 3"}},
		{"kill -KILL $$", supervisor.Exit{Code: -1, Signal: supervisor.SignalKill, Desc: "signal: killed"}},
		{"kill -SEGV $$", supervisor.Exit{Code: -1, Signal: supervisor.SignalOther, Desc: "signal: segmentation fault"}},
	} {
		cmd := exec.Command("/bin/sh", "-c", tc.script)
		err := cmd.Run()
		if got := ExitOf(cmd.ProcessState, err); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.script, got, tc.want)
		}
	}
}
