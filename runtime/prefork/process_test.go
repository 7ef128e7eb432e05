package prefork

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
)

// Syslog lines reach a real listener over each transport of --log-syslog-to,
// with the facility and the tag asked for.
func TestSyslogTransports(t *testing.T) {
	t.Parallel()
	for _, network := range []string{"udp", "tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Parallel()
			lines := make(chan string, 64)
			var to string
			switch network {
			case "udp":
				pc, err := net.ListenPacket("udp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { pc.Close() })
				to = "udp://" + pc.LocalAddr().String()
				go func() {
					buf := make([]byte, 8192)
					for {
						n, _, err := pc.ReadFrom(buf)
						if err != nil {
							return
						}
						lines <- string(buf[:n])
					}
				}()
			default:
				var ln net.Listener
				var err error
				if network == "tcp" {
					ln, err = net.Listen("tcp", "127.0.0.1:0")
					to = "tcp://" + ln.Addr().String()
				} else {
					path := filepath.Join(t.TempDir(), "log.sock")
					ln, err = net.Listen("unix", path)
					to = "unix://" + path + "#stream"
				}
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						go func() {
							sc := bufio.NewScanner(c)
							for sc.Scan() {
								lines <- sc.Text()
							}
						}()
					}
				}()
			}
			p := startHelper(t, "run", []string{"-w", "1", "--log-syslog", "--log-syslog-to", to, "--log-syslog-prefix", "shop", "--log-syslog-facility", "local3"})
			p.waitLog("master ready", 1, bootWithin)
			deadline := time.After(10 * time.Second)
			for {
				select {
				case l := <-lines:
					// local3 (19) * 8 + info (6) = 158
					if strings.Contains(l, "<158>") && strings.Contains(l, "shop[") && strings.Contains(l, `msg="master ready"`) {
						p.signal(syscall.SIGTERM)
						p.exit(15 * time.Second)
						return
					}
				case <-deadline:
					t.Fatalf("no syslog line <158>...shop[pid]: ... master ready over %s", to)
				}
			}
		})
	}
}

func cmdline(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	return strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
}

// -n NAME: ps shows "NAME: master" and "NAME: worker N [gen G]", and the
// processes still run with their real arguments.
func TestProcessTitles(t *testing.T) {
	t.Parallel()
	needProc(t)
	p := startHelper(t, "run", []string{"-w", "2", "-n", "shoptest", "-t", "30"})
	p.waitLog("master ready", 1, bootWithin)
	if got := cmdline(p.cmd.Process.Pid); got != "shoptest: master" {
		t.Errorf("master's title %q, want %q", got, "shoptest: master")
	}
	ws := p.waitWorkers(2, bootWithin, nil)
	titles := map[string]bool{}
	for _, pid := range ws {
		titles[cmdline(pid)] = true
	}
	if !titles["shoptest: worker 1 [gen 1]"] || !titles["shoptest: worker 2 [gen 1]"] {
		t.Errorf("worker titles %v", titles)
	}
	p.signal(syscall.SIGHUP)
	p.waitLog("reload complete", 1, bootWithin)
	p.waitWorkers(2, bootWithin, func(pids []int) bool {
		for _, pid := range pids {
			if !strings.Contains(cmdline(pid), "[gen 2]") {
				return false
			}
		}
		return true
	})
	if _, err := p.get(newClient(), "/pid"); err != nil {
		t.Errorf("not serving after HUP: %v", err)
	}
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
}

// -D: the command returns at once, the detached master serves and the
// pidfile names it.
func TestDaemonWritesMastersPid(t *testing.T) {
	t.Parallel()
	needProc(t)
	pidFile := filepath.Join(t.TempDir(), "app.pid")
	p := startHelper(t, "run", []string{"-w", "1", "-D", "--pid", pidFile})
	if code := p.exit(bootWithin); code != 0 {
		t.Fatalf("-D: the command exited %d", code)
	}
	var pid int
	deadline := time.Now().Add(bootWithin)
	for {
		b, err := os.ReadFile(pidFile)
		if err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		}
		if pid > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no pidfile from the detached master")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if pid == p.cmd.Process.Pid || !alive(pid) {
		t.Fatalf("pidfile names %d (the command was %d)", pid, p.cmd.Process.Pid)
	}
	// a session of its own: no terminal's signals reach it
	if sid, _, _ := syscall.RawSyscall(syscall.SYS_GETSID, uintptr(pid), 0, 0); int(sid) != pid {
		t.Errorf("the daemon's session is %d, want its own (%d)", sid, pid)
	}
	if _, err := p.get(newClient(), "/pid"); err != nil {
		t.Errorf("the detached master does not serve: %v", err)
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(15 * time.Second); alive(pid); {
		if time.Now().After(deadline) {
			t.Fatal("the daemon did not stop on TERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pidfile left: %v", err)
	}
}

// --reload: a changed --reload-extra-file rolls the workers like HUP, with
// no failed request.
func TestReloadOnFileChange(t *testing.T) {
	t.Parallel()
	needProc(t)
	watched := filepath.Join(t.TempDir(), "settings.yaml")
	os.WriteFile(watched, []byte("a: 1\n"), 0o644)
	p := startHelper(t, "run", []string{"-w", "2", "--reload", "--reload-extra-file", watched})
	p.waitLog("master ready", 1, bootWithin)
	before := p.waitWorkers(2, bootWithin, nil)
	l := startLoad(p, 4, "/pid")
	time.Sleep(200 * time.Millisecond)
	os.WriteFile(watched, []byte("a: 22\n"), 0o644)
	p.waitLog("--reload: changed on disk: "+watched, 1, bootWithin)
	p.waitLog("reload complete", 1, bootWithin)
	p.waitWorkers(2, bootWithin, noneOf(before))
	ok, _ := l.finish(t)
	t.Logf("--reload under load: %d requests, 0 failed", ok)
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
}

func TestFileWatchWaitsForTheCopyToSettle(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "app")
	os.WriteFile(bin, []byte("v1"), 0o755)
	w := master.NewFileWatch([]string{bin})
	now := time.Now()
	if got := w.Check(now); got != nil {
		t.Fatalf("unchanged: %v", got)
	}
	os.WriteFile(bin, []byte("v2-partial"), 0o755)
	os.Chtimes(bin, now.Add(time.Second), now.Add(time.Second))
	if got := w.Check(now.Add(time.Second)); got != nil {
		t.Fatalf("reported before it settled: %v", got)
	}
	if got := w.Check(now.Add(2 * time.Second)); len(got) != 1 || got[0] != bin {
		t.Fatalf("settled change not reported: %v", got)
	}
	if got := w.Check(now.Add(3 * time.Second)); got != nil {
		t.Fatalf("reported twice: %v", got)
	}
	os.Remove(bin) // a binary being replaced by rename is missing for a moment
	if got := w.Check(now.Add(4 * time.Second)); got != nil {
		t.Fatalf("a missing file reported: %v", got)
	}
}

// --reload: a binary replaced on disk (deploy by copying) rolls the workers
// onto it, with no failed request.
func TestReloadOnReplacedBinary(t *testing.T) {
	t.Parallel()
	needProc(t)
	bin := filepath.Join(t.TempDir(), "app")
	copyFile(t, os.Args[0], bin)
	p := startHelperAt(t, bin, "run", []string{"-w", "2", "--reload"})
	p.waitLog("master ready", 1, bootWithin)
	before := p.waitWorkers(2, bootWithin, nil)
	l := startLoad(p, 4, "/pid")
	time.Sleep(200 * time.Millisecond)
	// the new release: written beside, then renamed over, as install(1) and deploy tools do
	copyFile(t, os.Args[0], bin+".new")
	later := time.Now().Add(2 * time.Second)
	os.Chtimes(bin+".new", later, later)
	if err := os.Rename(bin+".new", bin); err != nil {
		t.Fatal(err)
	}
	p.waitLog("--reload: changed on disk: "+bin, 1, bootWithin)
	p.waitLog("reload complete", 1, bootWithin)
	p.waitWorkers(2, bootWithin, noneOf(before))
	ok, _ := l.finish(t)
	t.Logf("--reload of a replaced binary under load: %d requests, 0 failed", ok)
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}
