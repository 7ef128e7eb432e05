//go:build linux

package serving

import (
	"net"
	"testing"
	"time"
)

// Connections the kernel completed but nobody accepted yet are the backlog.
func TestListenBacklog(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if q, limit, ok := ListenBacklog(ln); !ok || q != 0 || limit <= 0 {
		t.Fatalf("empty listener: queued %d limit %d ok %v", q, limit, ok)
	}
	for range 3 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		q, _, _ := ListenBacklog(ln)
		if q == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("queued %d, want 3", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	ul, err := net.Listen("unix", t.TempDir()+"/s")
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	if _, _, ok := ListenBacklog(ul); ok {
		t.Error("a unix listener reported a TCP backlog")
	}
}
