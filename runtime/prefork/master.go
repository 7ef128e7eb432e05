package prefork

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Crash-loop policy: more than crashThreshold unexpected worker exits within
// crashWindow delay the next start, doubling from crashBackoffMin up to
// crashBackoffMax; crashStable without failures resets it.
const (
	crashWindow     = 10 * time.Second
	crashBackoffMin = 500 * time.Millisecond
	crashBackoffMax = 30 * time.Second
	crashStable     = 30 * time.Second
	killSlack       = time.Second     // past the graceful timeout before KILL
	abortWait       = 2 * time.Second // after SIGABRT (runtime stack dump) before KILL
	dumpWait        = time.Second     // for a requested goroutine dump before KILL
)

type workerState int

const (
	stateBooting  workerState = iota // started, App factory running
	stateReady                       // serving
	stateDraining                    // told to stop; finishing in-flight requests
)

func (s workerState) String() string {
	return [...]string{"booting", "ready", "draining"}[s]
}

// worker is the master's record of one worker process.
type worker struct {
	WorkerInfo
	cmd        *exec.Cmd
	control    *os.File // master's end: commands; closing it tells the worker the master is gone
	statusDone chan struct{}
	state      workerState
	started    time.Time
	readyAt    time.Time
	lastSeen   time.Time
	stats      WorkerStats
	maxReq     int64  // this worker's max-requests incl. jitter; 0 = none
	replace    string // non-empty: retire once a replacement is ready (the reason)
	stale      bool   // its generation is being replaced by a reload
	stopReason string // why the master told it to stop; "" = not told
	killAt     time.Time
	killWhy    string
	dumpAsked  bool
	aborted    bool
	killed     bool
	failure    bool   // its end counts towards the crash loop
	failMsg    string // the App factory's error, from the worker
}

// WorkerStatus is one worker as the master sees it (for status views).
type WorkerStatus struct {
	WorkerInfo
	State         string
	Started       time.Time
	LastHeartbeat time.Time
	WorkerStats
}

type workerMsg struct {
	w    *worker
	line string
}

type workerExit struct {
	w   *worker
	err error
}

type stopMode int

const (
	running stopMode = iota
	stopGraceful
	stopQuick
)

// master owns every piece of lifecycle state; only loop's goroutine touches it.
type master struct {
	cfg        Config
	log        *logging
	exe        string
	args       []string
	lns        []net.Listener
	names      []string
	files      []*os.File
	inherited  bool
	setProcs   bool // the user set GOMAXPROCS: workers keep it
	workers    map[int]*worker
	nextID     int
	gen        int
	target     int
	everReady  bool
	announced  bool // WhenReady ran
	reloadGen  int  // generation being rolled out; 0 = none
	failures   []time.Time
	lastFail   time.Time
	backoff    time.Duration
	nextSpawn  time.Time
	stopping   stopMode
	stopReason string
	err        error // returned by Run (boot failure)
	msgs       chan workerMsg
	exits      chan workerExit
	calls      chan func(*master) // extra events run on the loop (control socket, upgrade...)
	sigs       chan os.Signal
	done       chan struct{}
	prod       *masterProd // production features (upgrade.go)
}

func runMaster(cfg Config) error {
	lg, err := newLogging(cfg)
	if err != nil {
		return err
	}
	defer lg.close()
	if cfg.OnStarting != nil {
		if err := cfg.OnStarting(); err != nil {
			return fmt.Errorf("prefork: on_starting hook: %w", err)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("prefork: cannot find the executable to start workers from: %w", err)
	}
	applyUmask(cfg)
	parent := upgradeChildPipe() // started by an old master's USR2
	lns, names, inherited, err := listen(cfg.Bind, cfg.ReusePort)
	if err != nil {
		return err
	}
	files, err := ListenerFiles(lns)
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		return err
	}
	m := &master{
		cfg: cfg, log: lg, exe: exe, args: os.Args, lns: lns, names: names, files: files,
		inherited: inherited, setProcs: os.Getenv("GOMAXPROCS") != "",
		workers: make(map[int]*worker), gen: 1, target: cfg.Workers,
		msgs: make(chan workerMsg, 64), exits: make(chan workerExit, 16),
		calls: make(chan func(*master)), sigs: make(chan os.Signal, 16), done: make(chan struct{}),
	}
	if cfg.PidFile != "" && parent == nil { // an upgrading master writes it once ready
		if err := writePidFile(cfg.PidFile); err != nil {
			m.closeListeners()
			return err
		}
	}
	if err := m.startProduction(); err != nil {
		m.stopProduction()
		m.closeListeners()
		if cfg.PidFile != "" {
			removePidFile(cfg.PidFile) // nothing half-done is left behind
		}
		return err
	}
	m.prod.parent = parent
	signal.Notify(m.sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP,
		sigTTIN, sigTTOU, sigUSR1, sigUSR2)
	defer signal.Stop(m.sigs)
	lg.Info("master starting", "pid", os.Getpid(), "listeners", addrs(names), "inherited", inherited, "workers", m.target)
	return m.loop()
}

func (m *master) loop() error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	m.reconcile()
	for m.stopping == running || len(m.workers) > 0 {
		select {
		case s := <-m.sigs:
			m.signal(s)
		case msg := <-m.msgs:
			m.message(msg)
		case ex := <-m.exits:
			m.exited(ex)
		case f := <-m.calls:
			f(m)
		case <-tick.C:
			m.checkDeadlines()
		}
		m.reconcile()
	}
	return m.finish()
}

func (m *master) finish() error {
	close(m.done)
	m.stopProduction()
	m.closeListeners()
	for _, f := range m.files {
		f.Close()
	}
	if m.cfg.PidFile != "" {
		removePidFile(m.cfg.PidFile)
	}
	if m.cfg.OnExit != nil {
		m.cfg.OnExit()
	}
	if m.err != nil {
		m.log.Error("master stopped", "err", m.err)
	} else {
		m.log.Info("master stopped", "reason", m.stopReason)
	}
	return m.err
}

func (m *master) closeListeners() {
	for _, ln := range m.lns {
		ln.Close() // unix sockets this master bound are unlinked here
	}
	m.lns = nil
}

func (m *master) signal(s os.Signal) {
	m.log.Debug("signal", "signal", s)
	switch s {
	case syscall.SIGTERM:
		m.stop(stopGraceful, "SIGTERM")
	case syscall.SIGINT, syscall.SIGQUIT:
		m.stop(stopQuick, strings.ToUpper(strings.TrimPrefix(s.String(), "signal: ")))
	case syscall.SIGHUP:
		m.reload()
	case sigTTIN:
		m.setTarget(m.target+1, "TTIN")
	case sigTTOU:
		if m.target > 1 {
			m.setTarget(m.target-1, "TTOU")
		} else {
			m.log.Warn("TTOU ignored: never fewer than 1 worker")
		}
	case sigUSR1:
		if err := m.log.reopen(); err != nil {
			m.log.Error("reopen log", "err", err)
		}
		for _, w := range m.workers {
			m.send(w, cmdReopen)
		}
		m.log.Info("log files reopened (USR1)")
	case sigUSR2:
		m.upgrade()
	}
}

func (m *master) setTarget(n int, why string) {
	if m.stopping != running || n == m.target {
		return
	}
	old := m.target
	m.target = n
	m.log.Info("worker count changed", "from", old, "to", n, "reason", why)
	if m.cfg.NWorkersChanged != nil {
		m.cfg.NWorkersChanged(n, old)
	}
}

// stop begins a graceful or quick stop of every worker; the loop ends when
// the last one is reaped.
func (m *master) stop(mode stopMode, why string) {
	if m.stopping >= mode {
		return
	}
	if m.stopping == running {
		m.sdStopping()
		m.stopReason = why
		m.log.Info("master stopping", "reason", why, "graceful", mode == stopGraceful, "workers", len(m.workers))
		m.closeListeners() // workers close theirs too: new connections are refused, not queued
	}
	m.stopping = mode
	for _, w := range m.sorted() {
		m.retire(w, "master stopping: "+why, mode == stopQuick)
	}
}

// reload starts a new generation; reconcile rolls it out worker by worker.
func (m *master) reload() {
	if m.stopping != running {
		return
	}
	m.sdReloading()
	m.log.Info("reload requested (HUP)", "generation", m.gen+1)
	if m.cfg.Reload != nil {
		nc, err := m.cfg.Reload()
		if err == nil {
			nc, err = nc.withDefaults()
		}
		if err != nil {
			m.log.Error("reload: configuration not applied, keeping the current one", "err", err)
		} else {
			if !slices.Equal(nc.Bind, m.cfg.Bind) && !m.inherited {
				m.log.Warn("reload: bind addresses changed; a restart (or USR2) is needed to apply them", "bind", strings.Join(nc.Bind, ","))
			}
			nc.Bind = m.cfg.Bind
			keepFuncs(&nc, m.cfg)
			oldWorkers := m.cfg.Workers
			m.cfg = nc
			if nc.Workers != oldWorkers {
				m.setTarget(nc.Workers, "reload")
			}
		}
	}
	if m.cfg.OnReload != nil {
		m.cfg.OnReload()
	}
	m.gen++
	m.reloadGen = m.gen
	for _, w := range m.workers {
		if w.stopReason == "" {
			w.stale = true
		}
	}
}

// keepFuncs fills nc's unset fields that do not travel as JSON (funcs, the
// logger, middleware: tagged json:"-") from old, so a Reload that returns
// only settings keeps the program's hooks.
func keepFuncs(nc *Config, old Config) {
	dst, src := reflect.ValueOf(nc).Elem(), reflect.ValueOf(old)
	for i := range dst.NumField() {
		f := dst.Type().Field(i)
		if f.IsExported() && f.Tag.Get("json") == "-" && dst.Field(i).IsZero() {
			dst.Field(i).Set(src.Field(i))
		}
	}
}

func (m *master) abandonReload(why string) {
	m.log.Error("reload abandoned: the new generation failed to boot; the current workers keep serving",
		"generation", m.reloadGen, "reason", why)
	for _, w := range m.sorted() {
		if w.Generation == m.reloadGen && w.state == stateBooting && w.stopReason == "" {
			m.retire(w, "abandoned generation", true)
		}
		w.stale = false
	}
	m.reloadGen = 0
	m.sdReady("reload abandoned")
}

// reconcile starts and retires workers so that `target` workers of the
// current generation serve, never letting the number of ready workers fall
// below target while replacing: a worker to replace (old generation,
// max-requests, stuck request, excess) is told to drain only once enough
// others are ready.
func (m *master) reconcile() {
	if m.stopping != running {
		return
	}
	var keep, cands []*worker
	for _, w := range m.sorted() {
		switch {
		case w.stopReason != "":
		case w.stale || w.replace != "":
			cands = append(cands, w)
		default:
			keep = append(keep, w)
		}
	}
	if extra := len(keep) - m.target; extra > 0 {
		// booting ones first (they serve nothing yet), then the oldest
		slices.SortStableFunc(keep, func(a, b *worker) int {
			return boolInt(a.state != stateBooting) - boolInt(b.state != stateBooting)
		})
		for _, w := range keep[:extra] {
			w.replace = "scale down"
		}
		cands = append(cands, keep[:extra]...)
		keep = keep[extra:]
	}
	now := time.Now()
	for len(keep) < m.target && !now.Before(m.nextSpawn) {
		w, err := m.spawn()
		if err != nil {
			m.log.Error("cannot start worker", "err", err)
			if !m.everReady {
				m.fail(fmt.Errorf("prefork: cannot start worker: %w", err))
				return
			}
			m.recordFailure()
			break
		}
		keep = append(keep, w)
	}
	serving := 0
	for _, w := range keep {
		if w.state == stateReady {
			serving++
		}
	}
	for _, w := range cands {
		if w.state == stateReady {
			serving++
		}
	}
	for _, w := range cands {
		why := w.replace
		if w.stale {
			why = fmt.Sprintf("reload: replaced by generation %d", m.gen)
		}
		if w.state != stateReady {
			m.retire(w, why, false)
			continue
		}
		if serving-1 >= m.target {
			m.retire(w, why, false)
			serving--
		}
	}
	if m.reloadGen != 0 {
		for _, w := range m.workers {
			if w.stale {
				return
			}
		}
		m.log.Info("reload complete", "generation", m.reloadGen, "workers", len(keep))
		m.reloadGen = 0
		m.sdReady("reload")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fail stops the master quickly; Run returns err.
func (m *master) fail(err error) {
	if m.err == nil {
		m.err = err
	}
	m.stop(stopQuick, err.Error())
}

func (m *master) sorted() []*worker {
	ws := make([]*worker, 0, len(m.workers))
	for _, w := range m.workers {
		ws = append(ws, w)
	}
	slices.SortFunc(ws, func(a, b *worker) int { return a.ID - b.ID })
	return ws
}

// retire tells a worker to drain (or quit) and sets its kill deadline.
func (m *master) retire(w *worker, why string, quick bool) {
	if w.stopReason != "" && !quick {
		return
	}
	first := w.stopReason == ""
	if first {
		w.stopReason = why
	}
	w.state = stateDraining
	cmd := cmdDrain
	if m.stopping != running {
		cmd += " stop" // every worker is stopping: each serves the listen backlog first
	}
	if quick {
		cmd = cmdQuit
	}
	m.send(w, cmd)
	if first || quick {
		w.killAt = time.Now().Add(off(m.cfg.GracefulTimeout) + killSlack)
		w.killWhy = "graceful timeout exceeded"
		m.log.Info("stopping worker", "worker", w.ID, "generation", w.Generation, "pid", w.PID,
			"reason", why, "quick", quick, "requests", w.stats.Requests)
	}
}

// send writes one command to the worker; a worker that does not read within
// a moment is past caring (its deadlines handle it).
func (m *master) send(w *worker, cmd string) {
	w.control.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := w.control.Write([]byte(cmd + "\n")); err != nil {
		m.log.Debug("command not delivered", "worker", w.ID, "pid", w.PID, "command", cmd, "err", err)
	}
}

// kill ends a worker that did not stop in time. With abort, SIGABRT first
// makes the Go runtime print every goroutine's stack (to the error log), and
// KILL follows if it is still there.
func (m *master) kill(w *worker, why string, abort bool) {
	if w.killed {
		return
	}
	if w.stopReason == "" {
		w.stopReason = why
		w.failure = true
	}
	m.log.Error("killing worker", "worker", w.ID, "generation", w.Generation, "pid", w.PID, "reason", why, "stopping_for", w.stopReason,
		"age", time.Since(w.started).Round(time.Millisecond), "requests", w.stats.Requests,
		"in_flight", w.stats.InFlight, "state", w.state.String(), "signal", map[bool]string{true: "ABRT", false: "KILL"}[abort])
	if abort && !w.aborted {
		w.aborted = true
		w.cmd.Process.Signal(syscall.SIGABRT)
		w.killAt = time.Now().Add(abortWait)
		w.killWhy = why + "; still running after SIGABRT"
		return
	}
	w.killed = true
	w.cmd.Process.Kill()
}

func (m *master) checkDeadlines() {
	now := time.Now()
	m.tickProduction(now)
	for _, w := range m.sorted() {
		if w.killed {
			continue
		}
		if !w.killAt.IsZero() && now.After(w.killAt) {
			if !w.dumpAsked && !w.aborted && now.Sub(w.lastSeen) < 2*m.cfg.heartbeatInterval()+100*time.Millisecond {
				// it still talks: have it log its goroutines before the kill
				w.dumpAsked = true
				m.send(w, cmdDump+" "+strconv.Quote(w.killWhy))
				w.killAt = now.Add(dumpWait)
				continue
			}
			m.kill(w, w.killWhy, false)
			continue
		}
		if m.cfg.Timeout <= 0 || w.aborted {
			continue
		}
		switch {
		case w.state == stateBooting && now.Sub(w.started) > m.cfg.Timeout:
			why := fmt.Sprintf("not ready within the timeout (%s)", m.cfg.Timeout)
			m.bootFailed(w, why)
			m.kill(w, "boot "+why, true)
		case w.state != stateBooting && now.Sub(w.lastSeen) > m.cfg.Timeout:
			m.kill(w, fmt.Sprintf("no heartbeat for %s (timeout %s)", now.Sub(w.lastSeen).Round(time.Millisecond), m.cfg.Timeout), true)
		case w.state == stateReady && w.replace == "" && w.stats.OldestRequest > m.cfg.Timeout:
			w.replace = fmt.Sprintf("a request has run for %s (timeout %s)", w.stats.OldestRequest.Round(time.Millisecond), m.cfg.Timeout)
			m.log.Warn("recycling worker: stuck request", "worker", w.ID, "generation", w.Generation, "pid", w.PID,
				"reason", w.replace, "requests", w.stats.Requests)
			w.dumpAsked = true
			m.send(w, cmdDump+" "+strconv.Quote(w.replace))
		}
	}
}

// bootFailed handles a worker that never became ready: at start-up it stops
// the master; during a reload it abandons the new generation.
func (m *master) bootFailed(w *worker, why string) {
	if w.stopReason != "" {
		return
	}
	if w.failMsg != "" {
		why = w.failMsg
	}
	switch {
	case !m.everReady:
		m.fail(fmt.Errorf("prefork: worker failed to boot: %s", why))
	case m.reloadGen != 0 && w.Generation == m.reloadGen:
		m.abandonReload(fmt.Sprintf("worker %d (pid %d): %s", w.ID, w.PID, why))
	}
}

func (m *master) message(msg workerMsg) {
	w := msg.w
	if _, live := m.workers[w.ID]; !live {
		return
	}
	w.lastSeen = time.Now()
	verb, arg, _ := strings.Cut(msg.line, " ")
	switch verb {
	case msgReady:
		if w.state != stateBooting {
			return
		}
		w.state = stateReady
		w.readyAt = w.lastSeen
		m.everReady = true
		m.log.Info("worker ready", "worker", w.ID, "generation", w.Generation, "pid", w.PID,
			"boot", w.readyAt.Sub(w.started).Round(time.Millisecond))
		m.maybeAnnounce()
	case msgHeartbeat:
		var st WorkerStats
		var ms int64
		if _, err := fmt.Sscanf(arg, "%d %d %d", &st.Requests, &st.InFlight, &ms); err != nil {
			m.log.Warn("bad heartbeat", "worker", w.ID, "line", msg.line)
			return
		}
		st.OldestRequest = time.Duration(ms) * time.Millisecond
		w.stats = st
		if w.maxReq > 0 && st.Requests >= w.maxReq && w.replace == "" && w.state == stateReady {
			w.replace = fmt.Sprintf("max requests reached (%d)", w.maxReq)
			m.log.Info("recycling worker", "worker", w.ID, "generation", w.Generation, "pid", w.PID, "reason", w.replace)
		}
	case msgFail:
		if s, err := strconv.Unquote(arg); err == nil {
			arg = s
		}
		w.failMsg = arg
	case msgExiting:
		if s, err := strconv.Unquote(arg); err == nil {
			arg = s
		}
		if w.stopReason == "" {
			w.stopReason = "stopped on its own: " + arg // replaced, but no crash
			w.state = stateDraining
			w.killAt = time.Now().Add(off(m.cfg.GracefulTimeout) + killSlack)
			w.killWhy = "graceful timeout exceeded"
		}
	case msgDumped:
		if w.dumpAsked && !w.killAt.IsZero() && w.stopReason != "" && time.Until(w.killAt) <= dumpWait {
			m.kill(w, w.killWhy, false)
		}
	}
}

// maybeAnnounce runs WhenReady once all start-up workers are ready.
// (Issue 4: sd_notify READY=1 belongs here.)
func (m *master) maybeAnnounce() {
	if m.announced {
		return
	}
	n := 0
	for _, w := range m.workers {
		if w.state == stateReady {
			n++
		}
	}
	if n < m.target {
		return
	}
	m.announced = true
	m.sdReady("start-up")
	m.log.Info("master ready", "workers", n, "listeners", addrs(m.names))
	if m.cfg.WhenReady != nil {
		m.cfg.WhenReady()
	}
}

func (m *master) exited(ex workerExit) {
	w := ex.w
	delete(m.workers, w.ID)
	w.control.Close()
	reason := "exit status 0"
	if ex.err != nil {
		reason = ex.err.Error()
	}
	if m.cfg.ChildExit != nil {
		m.cfg.ChildExit(w.WorkerInfo, reason)
	}
	attrs := []any{"worker", w.ID, "generation", w.Generation, "pid", w.PID, "exit", reason,
		"age", time.Since(w.started).Round(time.Millisecond), "requests", w.stats.Requests}
	if w.stopReason != "" && !w.failure {
		m.log.Info("worker exited", append(attrs, "reason", w.stopReason)...)
		return
	}
	if w.state == stateBooting && w.stopReason == "" {
		why := w.failMsg
		if why == "" {
			why = "exited before ready: " + reason
		}
		m.log.Error("worker failed to boot", append(attrs, "reason", why)...)
		m.bootFailed(w, why)
	} else {
		why := w.stopReason
		switch {
		case why != "":
		case strings.HasSuffix(reason, "signal: killed"):
			// Someone else ended a worker that was serving: the app did not fail,
			// so this is not a crash loop and the replacement starts at once
			// (a backoff here would leave the port without workers while an
			// operator or the OOM killer picks them off one by one).
			m.log.Error("worker died", append(attrs, "reason", "SIGKILL from outside the master (the kernel's OOM killer? see dmesg)")...)
			return
		case strings.Contains(reason, "signal: "):
			why = "killed by a signal from outside the master"
		case w.stats.InFlight > 0:
			why = fmt.Sprintf("unexpected exit with %d requests in flight (a panic or os.Exit in the app? see its output above)", w.stats.InFlight)
		default:
			why = "unexpected exit (a panic or os.Exit in the app? see its output above)"
		}
		m.log.Error("worker died", append(attrs, "reason", why)...)
	}
	m.recordFailure()
}

func (m *master) recordFailure() {
	now := time.Now()
	if now.Sub(m.lastFail) > crashStable {
		m.backoff = 0
	}
	m.lastFail = now
	kept := m.failures[:0]
	for _, t := range m.failures {
		if now.Sub(t) < crashWindow {
			kept = append(kept, t)
		}
	}
	m.failures = append(kept, now)
	if len(m.failures) > max(5, m.target) {
		m.backoff = min(max(2*m.backoff, crashBackoffMin), crashBackoffMax)
		m.nextSpawn = now.Add(m.backoff)
		m.log.Error("crash loop: delaying the next worker start", "failures", len(m.failures),
			"window", crashWindow, "delay", m.backoff)
	}
}

// spawn re-executes the binary as a worker of the current generation.
func (m *master) spawn() (*worker, error) {
	m.nextID++
	w := &worker{WorkerInfo: WorkerInfo{ID: m.nextID, Generation: m.gen}, statusDone: make(chan struct{})}
	if m.cfg.MaxRequests > 0 {
		w.maxReq = int64(m.cfg.MaxRequests + rand.IntN(m.cfg.MaxRequestsJitter+1))
	}
	if m.cfg.PreFork != nil {
		m.cfg.PreFork(w.WorkerInfo)
	}
	statusR, statusW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	controlR, controlW, err := os.Pipe()
	if err != nil {
		statusR.Close()
		statusW.Close()
		return nil, err
	}
	cmd := exec.Command(m.exe)
	cmd.Args = m.args
	cmd.Env, err = m.workerEnv(w)
	if err != nil {
		return nil, err
	}
	cmd.ExtraFiles = append(slices.Clone(m.files), statusW, controlR)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = m.workerCredential()
	err = cmd.Start()
	statusW.Close()
	controlR.Close()
	if err != nil {
		statusR.Close()
		controlW.Close()
		return nil, err
	}
	now := time.Now()
	w.cmd, w.control, w.PID, w.started, w.lastSeen = cmd, controlW, cmd.Process.Pid, now, now
	m.workers[w.ID] = w
	go m.readStatus(w, statusR)
	go m.wait(w)
	m.log.Info("worker started", "worker", w.ID, "generation", w.Generation, "pid", w.PID)
	return w, nil
}

func (m *master) workerEnv(w *worker) ([]string, error) {
	js, err := json.Marshal(m.cfg)
	if err != nil {
		return nil, fmt.Errorf("prefork: encode worker config: %w", err)
	}
	env := cleanEnv(os.Environ())
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "NOTIFY_SOCKET=") })
	n := len(m.files)
	env = append(env,
		EnvListenFDs+"="+strconv.Itoa(n),
		EnvListenNames+"="+listenNames(m.names),
		envWorkerID+"="+strconv.Itoa(w.ID),
		envGeneration+"="+strconv.Itoa(w.Generation),
		envStatusFD+"="+strconv.Itoa(3+n),
		envControlFD+"="+strconv.Itoa(4+n),
		envMaxRequests+"="+strconv.FormatInt(w.maxReq, 10),
		envConfig+"="+string(js),
	)
	if !m.setProcs {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/max(1, m.target))))
	}
	return env, nil
}

func (m *master) readStatus(w *worker, r *os.File) {
	defer close(w.statusDone)
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20) // a boot error may be long
	for sc.Scan() {
		select {
		case m.msgs <- workerMsg{w, sc.Text()}:
		case <-m.done:
			return
		}
	}
}

// wait is the one Wait of a worker; its status messages are delivered first.
func (m *master) wait(w *worker) {
	err := w.cmd.Wait()
	select {
	case <-w.statusDone:
	case <-time.After(time.Second): // a grandchild holds the pipe: don't wait for it
	}
	select {
	case m.exits <- workerExit{w, err}:
	case <-m.done:
	}
}

// snapshot lists the workers for a status view.
func (m *master) snapshot() []WorkerStatus {
	var out []WorkerStatus
	for _, w := range m.sorted() {
		out = append(out, WorkerStatus{WorkerInfo: w.WorkerInfo, State: w.state.String(), Started: w.started,
			LastHeartbeat: w.lastSeen, WorkerStats: w.stats})
	}
	return out
}

func writePidFile(path string) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("prefork: pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("prefork: pid file: %w", err)
	}
	return nil
}

// removePidFile removes path if it still holds this process's pid.
func removePidFile(path string) {
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
