package prefork

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

// Status is the master's status report, served on the control socket.
type Status struct {
	PID        int            `json:"pid"`
	Started    time.Time      `json:"started"`
	Generation int            `json:"generation"`
	Phase      string         `json:"phase"`  // the master's: serving, reloading, canary...
	Newest     int            `json:"newest"` // the newest generation started (a canary's, a rolled-back one's)
	Workers    []WorkerReport `json:"workers"`
	// Canary is the running canary (nil: none); LastCanary the last one's
	// decision (nil: none yet).
	Canary     *CanaryReport   `json:"canary,omitempty"`
	LastCanary *CanaryDecision `json:"last_canary,omitempty"`
	// ReloadError: the last reload's configuration did not load.
	ReloadError string `json:"reload_error,omitempty"`
}

// CanaryReport is a running canary: its generation, its share of the
// workers and its figures against the current generation's over the window
// so far.
type CanaryReport struct {
	Generation     int            `json:"generation"`
	Upgrade        bool           `json:"upgrade,omitempty"` // this master is a binary upgrade's new one, judged against the old master
	Workers        int            `json:"workers"`
	Share          float64        `json:"share"` // of the current generation's target
	WindowLeftSecs float64        `json:"window_left_seconds,omitempty"`
	Booting        bool           `json:"booting,omitempty"` // the window opens once its workers are ready
	New            GenerationFigs `json:"new"`
	Old            GenerationFigs `json:"old"`
}

// CanaryDecision is how the last canary ended.
type CanaryDecision struct {
	Generation int            `json:"generation"`
	At         time.Time      `json:"at"`
	Decision   string         `json:"decision"` // promote, rollback
	Reason     string         `json:"reason"`   // healthy, not_enough_traffic, errors, latency, crash, boot_failure, superseded, stopped
	Detail     string         `json:"detail"`
	New        GenerationFigs `json:"new"`
	Old        GenerationFigs `json:"old"`
}

// GenerationFigs are one side's figures over a canary's window: requests
// completed, failed (5xx, aborted), latency quantiles (bucket bounds, 10%
// apart).
type GenerationFigs struct {
	Workers   int     `json:"workers"`
	Requests  int64   `json:"requests"`
	Errors    int64   `json:"errors"`
	ErrorRate float64 `json:"error_rate"`
	P50Millis float64 `json:"p50_ms"`
	P99Millis float64 `json:"p99_ms"`
}

func figsOf(f supervisor.Figures) GenerationFigs {
	return GenerationFigs{Workers: f.Workers, Requests: f.Requests, Errors: f.Errors, ErrorRate: f.ErrorRate(),
		P50Millis: millis(f.P50()), P99Millis: millis(f.P99())}
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (g GenerationFigs) String() string {
	return fmt.Sprintf("%d workers, %d requests, %.2f%% errors, p50 %gms, p99 %gms", g.Workers, g.Requests, 100*g.ErrorRate, g.P50Millis, g.P99Millis)
}

// WorkerReport is one worker in a Status.
type WorkerReport struct {
	ID         int     `json:"id"`
	Generation int     `json:"generation"`
	PID        int     `json:"pid"`
	State      string  `json:"state"`
	AgeSeconds float64 `json:"age_seconds"`
	// Requests served over the worker's life, as the master last heard
	// (at most one report, 1 s, old).
	Requests int64 `json:"requests"`
	InFlight int   `json:"in_flight"`
	RSSBytes int64 `json:"rss_bytes"`
	// From the worker's request metrics, present when the master collects
	// them (control socket or --metrics-bind): RequestsPerSecond over the
	// last 10 s; over its life, P50/P99 (the histogram bucket bounds the
	// quantile is under: at most that many ms; -1: above the highest
	// bucket) and its 5xx answers.
	Metrics           bool    `json:"metrics,omitempty"`
	RequestsPerSecond float64 `json:"requests_per_second,omitempty"`
	P50Millis         float64 `json:"p50_ms,omitempty"`
	P99Millis         float64 `json:"p99_ms,omitempty"`
	Errors5xx         uint64  `json:"errors_5xx,omitempty"`
}

// Control commands understood by the control socket. The status
// subcommand of a generated binary maps scale-up/scale-down to ttin/ttou.
const (
	ControlStatus = "status"
	ControlReload = "reload"
	ControlTTIN   = "ttin"
	ControlTTOU   = "ttou"
)

// controlCommands are the control socket's commands as the supervisor's events.
var controlCommands = map[string]supervisor.Control{
	ControlStatus: supervisor.ControlStatus, ControlReload: supervisor.ControlReload,
	ControlTTIN: supervisor.ControlTTIN, ControlTTOU: supervisor.ControlTTOU,
}

// controlTimeout bounds one exchange on the control socket, both sides.
const controlTimeout = 5 * time.Second

// controlReply is the one JSON line the master answers with.
type controlReply struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Status *Status `json:"status,omitempty"`
}

// controlServer answers one text command per connection ("status\n")
// with one JSON line.
type controlServer struct {
	ln     *net.UnixListener
	path   string
	info   os.FileInfo // the socket file we created, to remove only ours
	handle func(cmd string) (Status, error)
	log    func() *slog.Logger
	wg     sync.WaitGroup
}

// listenControl creates the control socket at path with mode 0600. It binds
// under a temporary name, sets the mode, then renames over path, so the
// socket is never reachable with a wider mode, and a new master (binary
// upgrade) takes the path over from the old one atomically.
func listenControl(path string, mode os.FileMode, handle func(string) (Status, error), log func() *slog.Logger) (*controlServer, error) {
	if log == nil {
		discard := slog.New(slog.DiscardHandler)
		log = func() *slog.Logger { return discard }
	}
	if dir := filepath.Dir(path); dir != "" {
		// ours to create when missing (like /run/app/): the socket itself has --control-socket-mode
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("prefork: control socket %s: %w", path, err)
		}
	}
	ln, info, err := serving.UnixSocketOver(path, func(tmp string) error { return os.Chmod(tmp, mode) })
	if err != nil {
		return nil, fmt.Errorf("prefork: control socket %s: %w", path, err)
	}
	s := &controlServer{ln: ln, path: path, info: info, handle: handle, log: log}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

func (s *controlServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.log().Warn("control socket accept", "error", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.answer(c)
		}()
	}
}

func (s *controlServer) answer(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(controlTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, 256)).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	cmd := strings.ToLower(strings.TrimSpace(line))
	var reply controlReply
	st, err := s.handle(cmd)
	if err != nil {
		reply.Error = err.Error()
	} else {
		reply.OK, reply.Status = true, &st
	}
	s.log().Debug("control command", "command", cmd, "ok", reply.OK)
	_ = json.NewEncoder(c).Encode(reply)
}

// Close stops serving and removes the socket file unless a newer master
// has already put its own socket at the path.
func (s *controlServer) Close() error {
	if s == nil {
		return nil
	}
	err := s.ln.Close()
	s.wg.Wait()
	serving.RemoveUnixSocket(s.path, s.info)
	return err
}

// Control sends one command (status, reload, ttin, ttou) to the master
// listening on socketPath and returns its status report.
func Control(socketPath, command string) (Status, error) {
	c, err := net.DialTimeout("unix", socketPath, controlTimeout)
	if err != nil {
		return Status{}, fmt.Errorf("prefork: control socket %s: %w (is the server running, with --control-socket %s?)", socketPath, err, socketPath)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(controlTimeout))
	if _, err := io.WriteString(c, command+"\n"); err != nil {
		return Status{}, fmt.Errorf("prefork: control socket %s: %w", socketPath, err)
	}
	var reply controlReply
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

// WriteTable prints the status as a table: a master line, then one row per worker.
func (s Status) WriteTable(w io.Writer) error {
	if _, err := fmt.Fprintf(w, "master %d  generation %d  up %s  workers %d\n", s.PID, s.Generation, roundAge(time.Since(s.Started)), len(s.Workers)); err != nil {
		return err
	}
	if c := s.Canary; c != nil {
		window := fmt.Sprintf("%s left", roundAge(time.Duration(c.WindowLeftSecs*float64(time.Second))))
		if c.Booting {
			window = "booting"
		}
		what := fmt.Sprintf("canary generation %d  %d workers (%.0f%% of the current)", c.Generation, c.Workers, 100*c.Share)
		if c.Upgrade {
			what = fmt.Sprintf("binary upgrade's canary  %d workers of this new master against the old master's", c.Workers)
		}
		fmt.Fprintf(w, "%s  %s\n  new: %s\n  old: %s\n", what, window, c.New, c.Old)
	}
	if d := s.LastCanary; d != nil {
		fmt.Fprintf(w, "last canary generation %d: %s (%s) %s ago: %s\n", d.Generation, d.Decision, d.Reason, roundAge(time.Since(d.At)), d.Detail)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "ID\tGEN\tPID\tSTATE\tAGE\tREQUESTS(LIFE)\tIN-FLIGHT\tRSS\tREQ/S(10S)\tP50(LIFE)\tP99(LIFE)\t5XX(LIFE)\t")
	for _, wk := range s.Workers {
		rss := "-"
		if wk.RSSBytes > 0 {
			rss = supervisor.FormatBytes(wk.RSSBytes)
		}
		fmt.Fprintf(tw, "%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t%s\t\n", wk.ID, wk.Generation, wk.PID, wk.State,
			roundAge(time.Duration(wk.AgeSeconds*float64(time.Second))), wk.Requests, wk.InFlight, rss, wk.metricsColumns())
	}
	return tw.Flush()
}

func roundAge(d time.Duration) string {
	switch {
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
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

// controlCommand answers the control socket (from its goroutine): the
// command is stepped on the loop like the signal it stands for, and the
// status is read there.
func (m *masterShell) controlCommand(cmd string) (Status, error) {
	c, known := controlCommands[cmd]
	if !known {
		return Status{}, fmt.Errorf("unknown command %q (want status, reload, ttin or ttou)", cmd)
	}
	var st Status
	err := m.ask(controlTimeout, func(m *masterShell) {
		m.step(supervisor.EvCommand{Cmd: c})
		st = m.status()
	})
	if err != nil {
		return Status{}, err
	}
	for i, w := range st.Workers { // fresh RSS, read off the loop
		if rss, err := observe.ReadRSS(w.PID); err == nil {
			st.Workers[i].RSSBytes = rss
		}
	}
	return st, nil
}

// status builds the status report (on the loop).
func (m *masterShell) status() Status {
	v := m.sup.View()
	st := Status{PID: os.Getpid(), Generation: v.Generation, Phase: v.Phase.String(), Newest: v.Newest, Workers: []WorkerReport{}}
	if v.ReloadErr != nil {
		st.ReloadError = v.ReloadErr.Error()
	}
	if c := v.Canary; c.Generation != 0 || c.Upgrade {
		st.Canary = &CanaryReport{Generation: c.Generation, Upgrade: c.Upgrade, Workers: c.Size, Share: float64(c.Size) / float64(max(v.Target, 1)),
			Booting: c.Started.IsZero(), New: figsOf(c.New), Old: figsOf(c.Old)}
		if !c.Started.IsZero() {
			st.Canary.WindowLeftSecs = max(c.Ends.Sub(v.At), 0).Seconds()
		}
	}
	if d := v.LastCanary; d != nil {
		st.LastCanary = &CanaryDecision{Generation: d.Generation, At: d.At, Decision: d.Decision, Reason: d.Reason, Detail: d.Detail,
			New: figsOf(d.New), Old: figsOf(d.Old)}
	}
	if m.prod != nil {
		st.Started = m.prod.started
	}
	now := time.Now()
	for _, w := range v.Workers {
		st.Workers = append(st.Workers, WorkerReport{
			ID: w.ID, Generation: w.Generation, PID: w.PID, State: w.Phase.String(),
			AgeSeconds: now.Sub(w.Started).Seconds(), Requests: w.Stats.Requests, InFlight: w.Stats.InFlight,
			RSSBytes: w.RSS,
		})
	}
	m.fillStatusMetrics(&st, v, now)
	return st
}
