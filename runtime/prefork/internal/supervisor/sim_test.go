package supervisor

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// sim drives a supervisor. Started workers get pid 1000+ID at once (the fake
// process interface); everything else happens only when a test says so.
type sim struct {
	t    *testing.T
	s    *Supervisor
	now  time.Time
	acts []Action // of the last step, answers included
}

func newSim(t *testing.T, workers int, tweak ...func(*Policy)) *sim {
	t.Helper()
	cfg := Policy{Workers: workers, Timeout: 30 * time.Second, GracefulTimeout: 30 * time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	cfg.Heartbeat = HeartbeatFor(cfg.Timeout)
	x := &sim{t: t, s: NewSupervisor(cfg, func(n int) int { return n - 1 }, "127.0.0.1:8000", false), now: time.Unix(1e9, 0)}
	x.step(EvStart{})
	return x
}

// step applies ev and answers every DoSpawn with EvStarted.
func (x *sim) step(ev Event) []Action {
	x.acts = nil
	for queue := []Event{ev}; len(queue) > 0; queue = queue[1:] {
		out := x.s.Step(x.now, queue[0])
		x.acts = append(x.acts, out...)
		for _, a := range out {
			if a.Kind == DoSpawn {
				queue = append(queue, EvStarted{ID: a.Worker.ID, PID: 1000 + a.Worker.ID})
			}
		}
	}
	return x.acts
}

func (x *sim) advance(d time.Duration) { x.now = x.now.Add(d); x.step(EvTick{}) }
func (x *sim) msg(id int, line string) { x.step(EvMessage{ID: id, Line: line}) }
func (x *sim) ready(ids ...int) {
	for _, id := range ids {
		x.msg(id, MsgReady)
	}
}
func (x *sim) exit(id int, status string) { x.step(EvExited{ID: id, Status: status}) }
func (x *sim) signal(name string)         { x.step(EvSignal{Name: name}) }

// reload is a HUP with a configuration the loop loaded (nil: unchanged).
func (x *sim) reload(cfg *Policy, err error) {
	x.signal("HUP")
	x.step(EvConfigLoaded{Cfg: cfg, Err: err})
}

// booted starts the sim's workers and has them all ready.
func (x *sim) booted() *sim {
	for _, w := range x.s.Workers {
		x.ready(w.ID)
	}
	return x
}

func (x *sim) spawned() (ids []int) {
	for _, a := range x.acts {
		if a.Kind == DoSpawn {
			ids = append(ids, a.Worker.ID)
		}
	}
	return ids
}

// sent lists what worker id was told in the last step (commands and signals).
func (x *sim) sent(id int) (out []string) {
	for _, a := range x.acts {
		if (a.Kind == DoSend || a.Kind == DoSignal) && a.Worker.ID == id {
			out = append(out, a.Arg)
		}
	}
	return out
}

func (x *sim) has(kind actKind, arg string) bool {
	return slices.ContainsFunc(x.acts, func(a Action) bool { return a.Kind == kind && (arg == "" || a.Arg == arg) })
}

func (x *sim) logged(msg string) int {
	n := 0
	for _, a := range x.acts {
		if a.Kind == DoLog && strings.Contains(a.Text+" "+fmt.Sprintln(a.Attrs...), msg) {
			n++
		}
	}
	return n
}

func (x *sim) phase(id int) string {
	if w := x.s.Find(id); w != nil {
		return w.Phase.String()
	}
	return "gone"
}

func (x *sim) ids() (ids []int) {
	for _, w := range x.s.Workers {
		ids = append(ids, w.ID)
	}
	return ids
}
