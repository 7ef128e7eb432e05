package supervisor

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"
)

// View is what readers (status, metrics, health, systemd's STATUS=) see of
// the supervisor: a value published after each Step, never its fields.
// Workers is a fresh slice at each step; a View is never changed once
// published, so the shell may hand it to other goroutines.
type View struct {
	At         time.Time // the step's time
	Phase      MasterPhase
	Generation int // the current generation: new workers belong to it
	Newest     int // the newest generation started: a canary's, or one rolled back
	Target     int
	Ready      int           // workers serving (ready or retiring)
	Serving    bool          // the service's readiness: Target ready and not leaving
	Started    bool          // the start-up was announced
	Stopping   bool          // on its way out (health probes: not ready)
	Done       bool          // stopped: every worker reaped
	StopReason string        // why it stops
	Err        error         // Run's result (a boot failure)
	CrashUntil time.Time     // no worker starts before (crash-loop backoff)
	Canary     CanaryView    // the running canary (Generation 0: none); its workers are not in Ready
	LastCanary *CanaryResult // the last canary's decision (nil: none yet); never changed once made
	ReloadErr  error         // the last reload's configuration did not load (nil: it did)
	Workers    []WorkerView
}

// WorkerView is one worker as a View shows it.
type WorkerView struct {
	WorkerInfo
	Phase    Phase
	Reason   string // why it left ready (retiring or stopping)
	Kind     string // the exit reason it will be counted under, once told or retiring
	Told     bool   // the master ended its service (draining, dumping, aborting, killed)
	OnItsOwn bool   // it said it stops on its own
	Started  time.Time
	ReadyAt  time.Time // zero until ready
	Deadline time.Time // told: when the master escalates
	Stats    WorkerStats
	RSS      int64
}

// Served is what every worker ever served, as far as their heartbeats told
// (monotonic; a USR2 master's canary compares with it). Not in View: the
// shell reads it on the loop, once a second, during an upgrade.
func (s *Supervisor) Served() Served { return s.served }

// View is the snapshot published by the last Step.
func (s *Supervisor) View() View { return s.view }

func (s *Supervisor) snapshot() View {
	v := View{At: s.now, Phase: s.phase, Generation: s.gen, Newest: s.lastGen, Target: s.target, Ready: s.countServing(),
		Canary: s.canaryView(), LastCanary: s.lastCanary, ReloadErr: s.reloadErr,
		Started: s.phase != MasterStarting, Stopping: s.phase.leaving(),
		Done: s.phase.stopped() && len(s.workers) == 0, StopReason: s.stopReason, Err: s.err,
		CrashUntil: s.crash.next, Workers: make([]WorkerView, 0, len(s.workers))}
	v.Serving = !s.phase.leaving() && v.Ready >= s.target
	for _, w := range s.workers {
		v.Workers = append(v.Workers, WorkerView{WorkerInfo: w.WorkerInfo, Phase: w.Phase, Reason: w.reason,
			Kind: string(w.kind), Told: w.Phase.told(), OnItsOwn: w.onItsOwn, Started: w.started,
			ReadyAt: w.readyAt, Deadline: w.deadline, Stats: w.stats, RSS: w.rss})
	}
	return v
}

// Worker is worker id in the view (false: not there).
func (v View) Worker(id int) (WorkerView, bool) {
	i := slices.IndexFunc(v.Workers, func(w WorkerView) bool { return w.ID == id })
	if i < 0 {
		return WorkerView{}, false
	}
	return v.Workers[i], true
}

// StatusText is systemd's STATUS= line for v.
func (v View) StatusText() string {
	var reqs int64
	for _, w := range v.Workers {
		reqs += w.Stats.Requests
	}
	st := fmt.Sprintf("%d workers ready (target %d), generation %d, %d requests served by current workers", v.Ready, v.Target, v.Generation, reqs)
	if c := v.Canary; c.Generation != 0 {
		if c.Started.IsZero() {
			return st + fmt.Sprintf("; canary generation %d (%d of the workers) booting", c.Generation, c.Size)
		}
		return st + fmt.Sprintf("; canary generation %d (%d of the workers), %s left: %d requests, %.2f%% errors, p99 %s (current %d requests, %.2f%% errors, p99 %s)",
			c.Generation, c.Size, c.Ends.Sub(v.At).Round(time.Second), c.New.Requests, 100*c.New.ErrorRate(), Dur(c.New.P99()),
			c.Old.Requests, 100*c.Old.ErrorRate(), Dur(c.Old.P99()))
	}
	return st
}

// The supervisor's own queries and small helpers.

func (s *Supervisor) statusText() string { return s.snapshot().StatusText() }

// countServing counts the workers serving, a canary's apart.
func (s *Supervisor) countServing() int {
	return len(slices.DeleteFunc(s.inPhase(PhaseReady, PhaseRetiring), s.isCanary))
}

func (s *Supervisor) inPhase(ps ...Phase) []*worker {
	var out []*worker
	for _, w := range s.workers {
		if slices.Contains(ps, w.Phase) {
			out = append(out, w)
		}
	}
	return out
}

func (s *Supervisor) find(id int) *worker {
	i := slices.IndexFunc(s.workers, func(w *worker) bool { return w.ID == id })
	if i < 0 {
		return nil
	}
	return s.workers[i]
}

func (s *Supervisor) remove(w *worker) {
	s.workers = slices.DeleteFunc(s.workers, func(x *worker) bool { return x == w })
}

func (s *Supervisor) do(a Action) { s.out = append(s.out, a) }

// record counts one outcome for the metrics (w may be nil).
func (s *Supervisor) record(w *worker, what RecordKind, outcome string) {
	a := Record{What: what, Outcome: outcome}
	if w != nil {
		a.Worker = w.WorkerInfo
	}
	s.do(a)
}

func (s *Supervisor) log(level slog.Level, msg string, attrs ...any) {
	s.do(Log{Level: level, Msg: msg, Attrs: attrs})
}

// logw logs about one worker.
func (s *Supervisor) logw(level slog.Level, msg string, w *worker, attrs []any) {
	s.log(level, msg, append([]any{"worker", w.ID, "generation", w.Generation, "pid", w.PID}, attrs...)...)
}

// Dur is how the runtime logs a duration: one readable unit, rounded.
func Dur(d time.Duration) string { return d.Round(time.Millisecond).String() }

// FormatBytes renders a size for humans (status table, logs).
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + "B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64) + string("KMGTP"[exp]) + "iB"
}

// HeartbeatFor is how often a worker reports to the master under a timeout: a
// second, or a quarter of a shorter timeout, never under 10ms.
func HeartbeatFor(timeout time.Duration) time.Duration {
	iv := time.Second
	if timeout > 0 && timeout/4 < iv {
		iv = timeout / 4
	}
	if iv < 10*time.Millisecond {
		iv = 10 * time.Millisecond
	}
	return iv
}
