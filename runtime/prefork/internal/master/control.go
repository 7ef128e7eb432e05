package master

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

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

// ControlTimeout bounds one exchange on the control socket, both sides.
const ControlTimeout = 5 * time.Second

// ControlReply is the one JSON line the master answers with.
type ControlReply struct {
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

// ListenControl creates the control socket at path with mode 0600. It binds
// under a temporary name, sets the mode, then renames over path, so the
// socket is never reachable with a wider mode, and a new master (binary
// upgrade) takes the path over from the old one atomically.
func ListenControl(path string, mode os.FileMode, handle func(string) (Status, error), log func() *slog.Logger) (*controlServer, error) {
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
	_ = c.SetDeadline(time.Now().Add(ControlTimeout))
	line, err := bufio.NewReader(io.LimitReader(c, 256)).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	cmd := strings.ToLower(strings.TrimSpace(line))
	var reply ControlReply
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

// controlCommand answers the control socket (from its goroutine): the
// command is stepped on the loop like the signal it stands for, and the
// status is read there.
func (m *masterShell) controlCommand(cmd string) (Status, error) {
	c, known := controlCommands[cmd]
	if !known {
		return Status{}, fmt.Errorf("unknown command %q (want status, reload, ttin or ttou)", cmd)
	}
	var st Status
	err := m.ask(ControlTimeout, func(m *masterShell) {
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
