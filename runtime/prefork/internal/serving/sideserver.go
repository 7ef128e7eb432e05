package serving

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// sideServer is a small HTTP server the master runs on an address of its own,
// never one of the app's listeners: the probes (health.go) and the metrics
// (metrics_server.go). Each says how it binds; the server serves what was
// bound, can keep trying in the background while the address is taken (by
// the master a USR2 upgrade replaces), and stops once.
type SideServer struct {
	name  string // the setting, for errors: "health-bind", "metrics-bind"
	what  string // for logs: "health listener", "metrics listener"
	addr  string
	srv   *http.Server
	log   *slog.Logger
	bound chan struct{} // closed once serving

	mu     sync.Mutex
	closed bool
	ln     net.Listener
	wg     sync.WaitGroup
}

func NewSideServer(name, what, addr string, h http.Handler, lg *slog.Logger) *SideServer {
	if lg == nil {
		lg = slog.New(slog.DiscardHandler)
	}
	return &SideServer{name: name, what: what, addr: addr, log: lg, bound: make(chan struct{}), srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ErrorLog:          slog.NewLogLogger(lg.Handler(), slog.LevelWarn),
	}}
}

// start binds with bind and serves. An error for which retry is true is
// logged once and bind is tried again every 100ms in the background until it
// succeeds or the server is closed; any other error is returned.
func (s *SideServer) Start(bind func() (net.Listener, error), retry func(error) bool) error {
	ln, err := bind()
	if err == nil {
		s.serve(ln)
		return nil
	}
	if retry == nil || !retry(err) {
		return fmt.Errorf("prefork: %s %s: %w", s.name, s.addr, err)
	}
	s.log.Info(s.what+" busy (the master being replaced holds it until it hands over); retrying", "addr", s.addr, "err", err)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			time.Sleep(100 * time.Millisecond)
			if s.isClosed() {
				return
			}
			if ln, err := bind(); err == nil {
				s.serve(ln)
				s.log.Info(s.what+" bound", "addr", s.addr)
				return
			}
		}
	}()
	return nil
}

func (s *SideServer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *SideServer) serve(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		ln.Close()
		return
	}
	s.ln = ln
	close(s.bound)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error(s.what+" failed", "addr", s.addr, "err", err)
		}
	}()
}

// Close stops serving; safe on nil and twice.
func (s *SideServer) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.srv.Close()
	s.wg.Wait()
}

// unixSocketOver binds a unix socket at path without a moment in which the
// path is missing or has a wider mode: it binds under a temporary name beside
// it, runs prepare on that name (nil: nothing; the control socket sets its
// mode there), and renames it over path, so a new master takes the path over
// from the old one atomically. The listener does not unlink path on Close:
// removeUnixSocket removes it only while it is still ours.
func UnixSocketOver(path string, prepare func(tmp string) error) (*net.UnixListener, os.FileInfo, error) {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp"+strconv.Itoa(os.Getpid()))
	_ = os.Remove(tmp)
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, nil, err
	}
	ln.SetUnlinkOnClose(false)
	fail := func(err error) (*net.UnixListener, os.FileInfo, error) {
		ln.Close()
		os.Remove(tmp)
		return nil, nil, err
	}
	if prepare != nil {
		if err := prepare(tmp); err != nil {
			return fail(err)
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return fail(err)
	}
	info, err := os.Lstat(path)
	if err != nil {
		return fail(err)
	}
	return ln, info, nil
}

// removeUnixSocket removes path unless another process (a newer master) has
// put its own socket there since info was read.
func RemoveUnixSocket(path string, info os.FileInfo) {
	if cur, err := os.Lstat(path); err == nil && info != nil && os.SameFile(cur, info) {
		os.Remove(path)
	}
}
