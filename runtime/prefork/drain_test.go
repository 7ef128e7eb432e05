package prefork

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// keptConn is one keep-alive client connection spoken to raw, as wrk does:
// nothing is retried, a reset or an EOF before an answer is a failure.
type keptConn struct {
	c  net.Conn
	br *bufio.Reader
}

func dialKept(addr string) (*keptConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &keptConn{c: c, br: bufio.NewReader(c)}, nil
}

// get sends one request and reads its answer: the body and whether the
// server said Connection: close.
func (k *keptConn) get(path string) (body string, closing bool, err error) {
	k.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(k.c, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path); err != nil {
		return "", false, err
	}
	resp, err := http.ReadResponse(k.br, nil)
	if err != nil {
		return "", false, err
	}
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != 200 {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), resp.Close, err
}

// TestStoppingWorkerAnswersIdleKeepAlive: a worker told to stop (recycled
// by --max-requests, replaced by HUP, stopped by TERM) keeps its idle
// kept-alive connections for up to 2 s: a request arriving on one 1.3 s
// in is answered, with Connection: close, by that worker; a connection that
// stays idle is then closed by the server, not reset under a request.
func TestStoppingWorkerAnswersIdleKeepAlive(t *testing.T) {
	needProc(t)
	for _, trigger := range []string{"max-requests", "HUP", "TERM"} {
		t.Run(trigger, func(t *testing.T) {
			t.Parallel()
			p := startHelper(t, "run", []string{"-w", "1", "--max-requests", "20", "--graceful-timeout", "10", "--keep-alive", "30"})
			p.waitLog("master ready", 1, bootWithin)
			idle, err := dialKept(p.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer idle.c.Close()
			quiet, err := dialKept(p.addr) // never used again: the server closes it
			if err != nil {
				t.Fatal(err)
			}
			defer quiet.c.Close()
			before, _, err := idle.get("/pid")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := quiet.get("/pid"); err != nil {
				t.Fatal(err)
			}
			switch trigger {
			case "max-requests":
				c := newClient()
				for range 20 {
					if _, err := p.get(c, "/pid"); err != nil {
						t.Fatal(err)
					}
				}
				c.CloseIdleConnections()
			case "HUP":
				p.signal(syscall.SIGHUP)
			case "TERM":
				p.signal(syscall.SIGTERM)
			}
			p.waitLog("stopping worker", 1, bootWithin)
			time.Sleep(1300 * time.Millisecond)
			got, closing, err := idle.get("/pid")
			if err != nil {
				t.Fatalf("request on an idle kept-alive connection 1.3 s into the stop: %v", err)
			}
			if got != before || !closing {
				t.Errorf("answered by %s (the stopping worker is %s), Connection: close %v; want the stopping worker, closing", got, before, closing)
			}
			quiet.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if n, err := quiet.c.Read(make([]byte, 1)); n != 0 || !errors.Is(err, io.EOF) {
				t.Errorf("the idle connection after the window: %d bytes, %v; want a clean close (EOF)", n, err)
			}
		})
	}
}

// rawLoad is n keep-alive clients that never retry (wrk's way of
// counting): every transport error is a failed request.
type rawLoad struct {
	ok, failed, closes atomic.Int64
	mu                 sync.Mutex
	errs               []error
	stop               chan struct{}
	wg                 sync.WaitGroup
}

// startRawLoad runs clients against path until finish, at most max
// requests in all; the first idle of them wait between requests (up to
// 1.5 s, so their connections are idle when a drain begins).
func startRawLoad(addr string, clients, idle int, path string, max int64) *rawLoad {
	l := &rawLoad{stop: make(chan struct{})}
	for i := range clients {
		think := time.Duration(0)
		if i < idle {
			think = time.Duration(i+1) * 1500 * time.Millisecond / time.Duration(idle)
		}
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			var k *keptConn
			defer func() {
				if k != nil {
					k.c.Close()
				}
			}()
			for l.ok.Load()+l.failed.Load() < max {
				select {
				case <-l.stop:
					return
				default:
				}
				if k == nil {
					var err error
					if k, err = dialKept(addr); err != nil {
						l.fail(err)
						continue
					}
				}
				_, closing, err := k.get(path)
				if err != nil {
					l.fail(err)
					k.c.Close()
					k = nil
					continue
				}
				l.ok.Add(1)
				if closing { // the server said so: reconnect, as wrk does
					l.closes.Add(1)
					k.c.Close()
					k = nil
				}
				if think > 0 {
					select {
					case <-l.stop:
					case <-time.After(think):
					}
				}
			}
		}()
	}
	return l
}

func (l *rawLoad) fail(err error) {
	l.failed.Add(1)
	l.mu.Lock()
	if len(l.errs) < 5 {
		l.errs = append(l.errs, err)
	}
	l.mu.Unlock()
}

// finish stops the clients; more than allowed failed requests fail t.
func (l *rawLoad) finish(t *testing.T, allowed int64) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	t.Logf("%d requests answered (%d with Connection: close), %d failed %v", l.ok.Load(), l.closes.Load(), l.failed.Load(), l.errs)
	if n := l.failed.Load(); n > allowed {
		t.Errorf("%d failed requests (of %d), want at most %d: %v", n, n+l.ok.Load(), allowed, l.errs)
	}
}

// TestRecyclingAndReloadUnderKeepAliveLoad: --max-requests 50 recycling
// and HUP under keep-alive clients that never retry, 4 busy and 8 idling up
// to 1.5 s between requests, fail no request.
func TestRecyclingAndReloadUnderKeepAliveLoad(t *testing.T) {
	needProc(t)
	t.Run("max-requests 50", func(t *testing.T) {
		t.Parallel()
		p := startHelper(t, "run", []string{"-w", "2", "--max-requests", "50", "--graceful-timeout", "5"})
		p.waitLog("master ready", 1, bootWithin)
		l := startRawLoad(p.addr, 12, 8, "/pid", 100000)
		time.Sleep(3 * time.Second) // the idle clients' connections meet drains
		p.waitLog("worker exited", 6, 30*time.Second)
		l.finish(t, 0)
	})
	t.Run("HUP", func(t *testing.T) {
		t.Parallel()
		p := startHelper(t, "run", []string{"-w", "2", "--graceful-timeout", "5"})
		p.waitLog("master ready", 1, bootWithin)
		l := startRawLoad(p.addr, 12, 8, "/pid", 100000)
		for i := 1; i <= 3; i++ {
			time.Sleep(300 * time.Millisecond)
			p.signal(syscall.SIGHUP)
			p.waitLog("stopping worker", 2*i, 30*time.Second)
		}
		p.waitLog("worker exited", 6, 30*time.Second)
		if strings.Count(p.log(), "graceful timeout") > 0 {
			t.Error("a drain ran into the graceful timeout")
		}
		l.finish(t, 0)
	})
	// unchanged: a SIGKILLed worker answers nothing more, so only requests
	// on its own connections fail (at most one per client), and the
	// replacement serves the rest
	t.Run("SIGKILL", func(t *testing.T) {
		t.Parallel()
		p := startHelper(t, "run", []string{"-w", "2", "--graceful-timeout", "5"})
		p.waitLog("master ready", 1, bootWithin)
		victim := p.waitWorkers(2, bootWithin, nil)[0]
		l := startRawLoad(p.addr, 12, 8, "/pid", 100000)
		time.Sleep(500 * time.Millisecond)
		syscall.Kill(victim, syscall.SIGKILL)
		p.waitLog("worker started", 3, bootWithin)
		time.Sleep(2 * time.Second)
		before := l.ok.Load()
		time.Sleep(300 * time.Millisecond)
		if l.ok.Load() == before {
			t.Error("no request answered after the replacement")
		}
		l.finish(t, 12)
	})
}
