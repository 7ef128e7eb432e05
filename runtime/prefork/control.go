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
	Workers    []WorkerReport `json:"workers"`
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
reload             rolling restart of the workers (like kill -HUP)
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
	var st Status
	for i := 0; i < times; i++ {
		if st, err = Control(socketPath, command); err != nil {
			return true, err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return true, enc.Encode(st)
	}
	return true, st.WriteTable(stdout)
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
	st := Status{PID: os.Getpid(), Generation: v.Generation, Workers: []WorkerReport{}}
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
