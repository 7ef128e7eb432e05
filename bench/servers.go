package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Server is one way of serving the benchmark's routes: a command line plus
// what the scenarios need to know about it.
type Server struct {
	Name    string            // as the report shows it, e.g. "runtime w=2"
	Family  string            // runtime, net/http, gunicorn, uwsgi: the chart's colour
	Workers int               // worker processes (0: single process)
	Routes  map[string]string // route name (hello, json) -> path
	Argv    []string          // command; "{addr}" and "{pidfile}" are replaced
	Dir     string
	Env     []string
	// Forks reports that the master's children are its workers (RSS, kill scenario).
	Forks bool
	// Exports reports that it sends spans and metrics to the bench's Collector, whose
	// CPU per request is then measured with it.
	Exports bool
}

// Proc is a started server.
type Proc struct {
	srv     *Server
	cmd     *exec.Cmd
	Addr    string
	pidFile string
	done    chan struct{}
	Started time.Duration // exec to first 2xx
	logPath string        // the server's stdout and stderr
}

// freeAddr asks the kernel for a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs the server in its own process group and waits for its first 2xx
// on its first route.
func (s *Server) Start(ctx context.Context, tmp string) (*Proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	name := sanitize(s.Name)
	name = name[:min(len(name), 28)] // unix socket paths beside it stay under 108 bytes; the port tells servers apart
	base := filepath.Join(tmp, name+"-"+strings.ReplaceAll(addr, ":", "_"))
	p := &Proc{srv: s, Addr: addr, pidFile: base + ".pid", logPath: base + ".log", done: make(chan struct{})}
	argv := make([]string, len(s.Argv))
	for i, a := range s.Argv {
		a = strings.ReplaceAll(a, "{addr}", addr)
		argv[i] = strings.ReplaceAll(a, "{pidfile}", p.pidFile)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = s.Dir
	p.cmd.Env = append(os.Environ(), s.Env...)
	// A file, not a pipe: with a pipe, Wait would also wait for every process
	// that inherited it (workers, a master started by USR2) to exit.
	logFile, err := os.Create(p.logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	if err := p.waitOK(ctx, 30*time.Second); err != nil {
		p.Stop()
		return nil, fmt.Errorf("%s: not serving: %w\n%s", s.Name, err, p.logTail())
	}
	p.Started = time.Since(start)
	return p, nil
}

// firstPath is the route used for readiness probes.
func (s *Server) firstPath() string {
	if p, ok := s.Routes["hello"]; ok {
		return p
	}
	for _, p := range s.Routes {
		return p
	}
	return "/"
}

// waitOK polls until a GET answers 2xx, the process exits, or limit passes.
func (p *Proc) waitOK(ctx context.Context, limit time.Duration) error {
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	url := "http://" + p.Addr + p.srv.firstPath()
	deadline := time.Now().Add(limit)
	for {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				return nil
			}
		}
		select {
		case <-p.done:
			return errors.New("exited")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no 2xx within %s", limit)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// MasterPID is the serving master: the pidfile's pid when the server writes
// one (it changes on a binary upgrade), else the started process.
func (p *Proc) MasterPID() int {
	if b, err := os.ReadFile(p.pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
	}
	return p.cmd.Process.Pid
}

// Workers lists the master's child processes, oldest pid first.
func (p *Proc) Workers() []int { return children(p.MasterPID()) }

// Signal sends sig to the serving master.
func (p *Proc) Signal(sig syscall.Signal) error { return syscall.Kill(p.MasterPID(), sig) }

// Stop asks the master for a quick stop (INT: the same for the runtime,
// Gunicorn and uWSGI, whose TERM means reload), then kills the whole process
// group, which also holds anything the master started (workers, an upgraded
// master).
func (p *Proc) Stop() {
	pgid := p.cmd.Process.Pid
	_ = syscall.Kill(p.MasterPID(), syscall.SIGINT)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-p.done
}

// children lists the pids whose parent is pid, from /proc.
func children(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid(child) == pid {
			out = append(out, child)
		}
	}
	slices.Sort(out)
	return out
}

// ppid reads a process's parent from /proc/PID/stat (0 if gone).
func ppid(pid int) int {
	f := statFields(pid)
	if len(f) < 2 {
		return 0
	}
	n, _ := strconv.Atoi(f[1])
	return n
}

// statFields are /proc/PID/stat's fields from the third (state) on; nil if gone. The
// command name before them is in parentheses and may hold spaces: they follow the last ')'.
func statFields(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// CPUTime is the user and system time of the serving master and its children so far.
func (p *Proc) CPUTime() time.Duration {
	master := p.MasterPID()
	total := cpuTicks(master)
	for _, c := range children(master) {
		total += cpuTicks(c)
	}
	return time.Duration(total) * time.Second / clockTicks
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every Linux port.
const clockTicks = 100

// cpuTicks reads utime+stime (fields 14 and 15) from /proc/PID/stat (0 if gone).
func cpuTicks(pid int) int64 {
	f := statFields(pid)
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// rssKB reads VmRSS of pid in kB (0 if gone).
func rssKB(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(v)
			if len(f) >= 1 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n
			}
		}
	}
	return 0
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil && ppid(pid) != 0 }

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, s)
}

// logTail is the end of what the server wrote, for error messages.
func (p *Proc) logTail() string {
	b, _ := os.ReadFile(p.logPath)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return string(b)
}

// settle waits until the master has n workers, then rest more for them to
// boot (Python workers import the app after the fork), so the load's
// connections spread over every worker rather than the first one ready.
func (p *Proc) settle(ctx context.Context, n int, rest time.Duration) {
	deadline := time.Now().Add(10 * time.Second)
	for len(p.Workers()) < n && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
	sleepUntil(ctx, time.Now().Add(rest))
}

// busiestWorker is the worker holding the most established client
// connections to addr (from /proc/net/tcp and each worker's fds): killing
// it is the worst case, and never a no-op on an idle worker.
func busiestWorker(workers []int, addr string) int {
	_, portStr, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portStr)
	inodes := map[string]bool{}
	b, _ := os.ReadFile("/proc/net/tcp")
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 10 || f[3] != "01" { // 01: ESTABLISHED
			continue
		}
		_, local, _ := strings.Cut(f[1], ":")
		if p, err := strconv.ParseInt(local, 16, 32); err == nil && int(p) == port {
			inodes[f[9]] = true
		}
	}
	best, bestN := workers[0], -1
	for _, w := range workers {
		n := 0
		fds, _ := os.ReadDir("/proc/" + strconv.Itoa(w) + "/fd")
		for _, fd := range fds {
			target, err := os.Readlink("/proc/" + strconv.Itoa(w) + "/fd/" + fd.Name())
			if err == nil && strings.HasPrefix(target, "socket:[") && inodes[strings.TrimSuffix(strings.TrimPrefix(target, "socket:["), "]")] {
				n++
			}
		}
		if n > bestN {
			best, bestN = w, n
		}
	}
	return best
}
