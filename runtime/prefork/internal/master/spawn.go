package master

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Environment the master sets for a worker (see the package doc of prefork),
// which the worker reads.
const (
	EnvWorkerID    = "PREFORK_WORKER_ID"
	EnvGeneration  = "PREFORK_GENERATION"
	EnvStatusFD    = "PREFORK_STATUS_FD"  // worker writes: ready, heartbeats
	EnvControlFD   = "PREFORK_CONTROL_FD" // worker reads: commands; EOF = master gone
	EnvMaxRequests = "PREFORK_MAX_REQUESTS"
)

// child is a started worker process, as the loop holds it: the process
// interface the supervisor's actions are carried out through.
type child struct {
	info       WorkerInfo
	cmd        *exec.Cmd
	control    *os.File // master's end: commands; closing it tells the worker the master is gone
	status     *os.File // master's end of the status pipe, read by readStatus
	statusDone chan struct{}
}

// send writes one command to the worker; a worker that does not read within
// a moment is past caring (its deadlines handle it).
func (c *child) send(cmd string, lg *observe.Log) {
	c.control.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := c.control.Write([]byte(cmd + "\n")); err != nil {
		lg.Debug("command not delivered", "worker", c.info.ID, "pid", c.info.PID, "command", cmd, "err", err)
	}
}

// signal sends ABRT (the Go runtime dumps every goroutine) or KILL.
func (c *child) signal(sig supervisor.WorkerSignal) {
	if sig == supervisor.Abort {
		c.cmd.Process.Signal(syscall.SIGABRT)
		return
	}
	c.cmd.Process.Kill()
}

// spawn re-executes the binary as worker w and answers evStarted or
// evSpawnFailed. settings is the configuration it runs (a canary's, not yet
// the master's); nil: the master's.
func (m *masterShell) spawn(w WorkerInfo, maxReq int64, settings any) supervisor.Event {
	if m.cfg.PreFork != nil {
		m.cfg.PreFork(w)
	}
	cfg := m.cfg
	if nc, ok := settings.(Config); ok {
		cfg = nc
	}
	c, err := m.startChild(w, maxReq, cfg)
	if err != nil {
		return supervisor.EvSpawnFailed{ID: w.ID, Err: err}
	}
	m.children[w.ID] = c
	go m.readStatus(c)
	go m.wait(c)
	return supervisor.EvStarted{ID: w.ID, PID: c.info.PID}
}

// startChild starts the process with its three pipes. Everything that can
// fail without descriptors is done first; after that, any failure closes
// every descriptor it opened.
func (m *masterShell) startChild(w WorkerInfo, maxReq int64, cfg Config) (*child, error) {
	handed, err := EncodeHandOver(cfg.Values)
	if err != nil {
		return nil, err
	}
	env := m.workerEnv(w, maxReq)
	var pipes [3][2]*os.File // status, control, configuration: read and write ends
	for i := range pipes {
		if pipes[i][0], pipes[i][1], err = os.Pipe(); err != nil {
			for _, p := range pipes[:i] {
				p[0].Close()
				p[1].Close()
			}
			return nil, err
		}
	}
	statusR, statusW := pipes[0][0], pipes[0][1]
	controlR, controlW := pipes[1][0], pipes[1][1]
	configR, configW := pipes[2][0], pipes[2][1]
	cmd := exec.Command(m.exe)
	cmd.Args = m.args
	if m.cfg.Name != "" { // -n: ps shows "NAME: worker 3 [gen 2]"
		var argsEnv string
		cmd.Args, argsEnv = titledArgs(workerTitle(m.cfg.Name, w), m.args)
		env = append(env, argsEnv)
	}
	cmd.Env = env
	cmd.ExtraFiles = append(slices.Clone(m.files), statusW, controlR, configR)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	var captured *os.File
	if m.cfg.CaptureOutput && m.cfg.ErrorLog != "" && m.cfg.ErrorLog != "-" {
		// --capture-output: the worker's own prints go to the error log
		if captured, err = os.OpenFile(m.cfg.ErrorLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
			cmd.Stdout, cmd.Stderr = captured, captured
		}
	}
	cmd.SysProcAttr = m.workerCredential()
	err = cmd.Start()
	if captured != nil {
		captured.Close()
	}
	statusW.Close()
	controlR.Close()
	configR.Close()
	if err != nil {
		statusR.Close()
		controlW.Close()
		configW.Close()
		return nil, err
	}
	// The worker reads its configuration before anything else; a pipe holds
	// 64KiB, so write on the side: a worker that dies first just fails this.
	go func() {
		configW.Write(handed)
		configW.Close()
	}()
	w.PID = cmd.Process.Pid
	return &child{info: w, cmd: cmd, control: controlW, status: statusR, statusDone: make(chan struct{})}, nil
}

func (m *masterShell) workerEnv(w WorkerInfo, maxReq int64) []string {
	env := CleanEnv(os.Environ())
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "NOTIFY_SOCKET=") })
	n := len(m.files)
	env = append(env,
		serving.EnvListenFDs+"="+strconv.Itoa(n),
		serving.EnvListenNames+"="+serving.ListenNames(m.names),
		EnvWorkerID+"="+strconv.Itoa(w.ID),
		EnvGeneration+"="+strconv.Itoa(w.Generation),
		EnvStatusFD+"="+strconv.Itoa(3+n),
		EnvControlFD+"="+strconv.Itoa(4+n),
		EnvConfigFD+"="+strconv.Itoa(5+n),
		EnvMaxRequests+"="+strconv.FormatInt(maxReq, 10),
	)
	if !m.setProcs {
		env = append(env, "GOMAXPROCS="+strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/max(1, m.sup.View().Target))))
	}
	return env
}

// readStatus forwards the worker's status lines to the loop.
func (m *masterShell) readStatus(c *child) {
	defer close(c.statusDone)
	defer c.status.Close()
	sc := bufio.NewScanner(c.status)
	sc.Buffer(make([]byte, 4096), 1<<20) // a boot error may be long
	for sc.Scan() {
		select {
		case m.msgs <- workerMsg{c.info.ID, sc.Text()}:
		case <-m.done:
			return
		}
	}
}

// wait is the one Wait of a worker; its status messages are delivered first.
func (m *masterShell) wait(c *child) {
	err := c.cmd.Wait()
	select {
	case <-c.statusDone:
	case <-time.After(time.Second): // a grandchild holds the pipe: don't wait for it
	}
	select {
	case m.exits <- workerExit{c, err}:
	case <-m.done:
	}
}

// cleanEnv drops the variables that describe descriptors of this process.
func CleanEnv(env []string) []string {
	out := make([]string, 0, len(env)+2)
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case serving.EnvListenFDs, serving.EnvListenNames, "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES",
			EnvWorkerID, EnvGeneration, EnvStatusFD, EnvControlFD, EnvConfigFD, EnvMaxRequests:
			continue
		}
		out = append(out, kv)
	}
	return out
}
