package supervisor

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sim drives a supervisor. Started workers get pid 1000+ID at once (the fake
// process interface); everything else happens only when a test says so.
// After every step, checkInvariants runs on the published view.
type sim struct {
	t        *testing.T
	s        *Supervisor
	now      time.Time
	prev     View
	acts     []Action // of the last step, answers included
	tookOver bool
}

func newSim(t *testing.T, workers int, tweak ...func(*Policy)) *sim {
	t.Helper()
	cfg := Policy{Workers: workers, Timeout: 30 * time.Second, GracefulTimeout: 30 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	cfg.Heartbeat = HeartbeatFor(cfg.Timeout)
	x := &sim{t: t, s: New(Options{Policy: cfg, Jitter: func(n int) int { return n - 1 }, Listeners: "127.0.0.1:8000"}), now: time.Unix(1e9, 0)}
	x.prev = x.s.View()
	x.step(EvStart{})
	return x
}

// step applies ev and answers every StartWorker with EvStarted; the
// invariants are checked after each step.
func (x *sim) step(ev Event) []Action {
	x.t.Helper()
	x.acts = nil
	for queue := []Event{ev}; len(queue) > 0; queue = queue[1:] {
		out := x.s.Step(x.now, queue[0])
		x.acts = append(x.acts, out...)
		err := checkInvariants(x.prev, x.s.View())
		if err == nil {
			err = checkActions(x.prev, x.s.View(), out, x.s.opt.TakeOver, &x.tookOver)
		}
		if err != nil {
			x.t.Fatalf("after %T%+v: invariant broken: %v", queue[0], queue[0], err)
		}
		x.prev = x.s.View()
		for _, a := range out {
			if a, ok := a.(StartWorker); ok {
				queue = append(queue, EvStarted{ID: a.Worker.ID, PID: 1000 + a.Worker.ID})
			}
		}
	}
	return x.acts
}

func (x *sim) advance(d time.Duration) { x.now = x.now.Add(d); x.step(EvTick{}) }
func (x *sim) ready(ids ...int) {
	for _, id := range ids {
		x.step(EvReady{ID: id})
	}
}

// hb is a heartbeat: requests, in flight, the oldest running request's age in ms.
func (x *sim) hb(id int, requests int64, inFlight int, oldestMs int64) {
	x.step(EvHeartbeat{ID: id, Stats: WorkerStats{Requests: requests, InFlight: inFlight, OldestRequest: time.Duration(oldestMs) * time.Millisecond}})
}

// exit reaps worker id with a wait status written as os.ProcessState prints it.
func (x *sim) exit(id int, status string) { x.step(EvExited{ID: id, Exit: exitOf(status)}) }

// exitOf is the Exit the shell decides for a wait status, written the way
// os.ProcessState prints it (the tests' shorthand).
func exitOf(status string) Exit {
	if name, ok := strings.CutPrefix(status, "signal: "); ok {
		if name == "killed" {
			return Exit{Code: -1, Signal: SignalKill, Desc: status}
		}
		return Exit{Code: -1, Signal: SignalOther, Desc: status}
	}
	code, err := strconv.Atoi(strings.TrimPrefix(status, "exit status "))
	if err != nil {
		panic("test: bad status " + status)
	}
	return Exit{Code: code, Desc: status}
}

// signal steps the master signal named like the package doc's table (TERM...).
func (x *sim) signal(name string) { x.step(EvSignal{Sig: sigNamed(name)}) }

func sigNamed(name string) Signal {
	i := slices.IndexFunc(Signals, func(s Signal) bool { return s.String() == name })
	if i < 0 {
		panic("test: no signal " + name)
	}
	return Signals[i]
}

// reload is a HUP with a policy the shell loaded (nil: unchanged).
func (x *sim) reload(cfg *Policy, err error) {
	x.signal("HUP")
	var l *Loaded
	if cfg != nil {
		l = &Loaded{Policy: *cfg, Settings: "settings"}
	}
	x.step(EvConfigLoaded{Loaded: l, Err: err})
}

// booted starts the sim's workers and has them all ready.
func (x *sim) booted() *sim {
	for _, w := range x.s.View().Workers {
		x.ready(w.ID)
	}
	return x
}

func (x *sim) spawned() (ids []int) {
	for _, a := range x.acts {
		if a, ok := a.(StartWorker); ok {
			ids = append(ids, a.Worker.ID)
		}
	}
	return ids
}

// sent lists what worker id was told in the last step (commands and signals),
// as the wire and the signal table spell them.
func (x *sim) sent(id int) (out []string) {
	for _, a := range x.acts {
		switch a := a.(type) {
		case Send:
			if a.Worker.ID == id {
				out = append(out, a.Command.String())
			}
		case SignalWorker:
			if a.Worker.ID == id {
				out = append(out, a.Sig.String())
			}
		}
	}
	return out
}

// The action types, by name, for has.
const (
	DoNotify         = "Notify"
	DoLoadConfig     = "LoadConfig"
	DoApplyConfig    = "ApplyConfig"
	DoCloseListeners = "CloseListeners"
	DoReopenLogs     = "ReopenLogs"
	DoStartUpgrade   = "StartUpgrade"
	DoKillUpgrade    = "KillUpgrade"
	DoWritePidFile   = "WritePidFile"
	DoHandOver       = "HandOver"
	DoHookReady      = "HookReady"
	DoHookChildExit  = "HookChildExit"
	DoHookWorkers    = "HookWorkers"
	DoHookReload     = "HookReload"
)

// has reports whether the last step asked for an action of type kind (and,
// for Notify, what; "" for any).
func (x *sim) has(kind string, what any) bool {
	return slices.ContainsFunc(x.acts, func(a Action) bool {
		if strings.TrimPrefix(fmt.Sprintf("%T", a), "supervisor.") != kind {
			return false
		}
		n, ok := a.(Notify)
		return what == "" || ok && n.What == what
	})
}

func (x *sim) logged(msg string) int {
	n := 0
	for _, a := range x.acts {
		if a, ok := a.(Log); ok && strings.Contains(a.Msg+" "+fmt.Sprintln(a.Attrs...), msg) {
			n++
		}
	}
	return n
}

func (x *sim) phase(id int) string {
	if w, ok := x.s.View().Worker(id); ok {
		return w.Phase.String()
	}
	return "gone"
}

func (x *sim) ids() (ids []int) {
	for _, w := range x.s.View().Workers {
		ids = append(ids, w.ID)
	}
	return ids
}

// view is the supervisor's published view.
func (x *sim) view() View { return x.s.View() }
