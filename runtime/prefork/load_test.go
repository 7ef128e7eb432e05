package prefork

import (
	"strconv"
	"strings"
	"testing"
)

func startLoad(p *proc, clients int, path string) *load {
	l := &load{errs: make(chan error, 10), pids: make(chan int, 100000), stop: make(chan struct{}), done: make(chan struct{})}
	finished := make(chan struct{}, clients)
	for range clients {
		go func() {
			defer func() { finished <- struct{}{} }()
			c := newClient()
			defer c.CloseIdleConnections()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				body, err := p.get(c, path)
				if err != nil {
					l.failed.Add(1)
					select {
					case l.errs <- err:
					default:
					}
					continue
				}
				l.ok.Add(1)
				if pid, err := strconv.Atoi(strings.TrimSpace(body)); err == nil {
					select {
					case l.pids <- pid:
					default:
					}
				}
			}
		}()
	}
	go func() {
		for range clients {
			<-finished
		}
		close(l.done)
	}()
	return l
}

func (l *load) finish(t *testing.T) (ok int64, pids map[int]bool) {
	t.Helper()
	close(l.stop)
	<-l.done
	close(l.errs)
	for err := range l.errs {
		t.Errorf("request failed: %v", err)
	}
	if n := l.failed.Load(); n > 0 {
		t.Errorf("%d failed requests (of %d)", n, n+l.ok.Load())
	}
	close(l.pids)
	pids = map[int]bool{}
	for pid := range l.pids {
		pids[pid] = true
	}
	return l.ok.Load(), pids
}
