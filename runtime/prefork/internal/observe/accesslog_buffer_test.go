package observe

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter records each Write call.
type countingWriter struct {
	mu     sync.Mutex
	writes []string
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, string(p))
	return len(p), nil
}

func (c *countingWriter) get() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.writes...)
}

func TestBufferedLogWritesWholeBuffers(t *testing.T) {
	out := &countingWriter{}
	b := newBufferedLog(out, 32, time.Hour, 1)
	for _, l := range []string{"0123456789\n", "0123456789\n", "abc\n"} { // 26 bytes: fits
		b.Write([]byte(l))
	}
	if w := out.get(); len(w) != 0 {
		t.Fatalf("written before the buffer filled: %q", w)
	}
	b.Write([]byte("0123456789\n")) // 37 > 32: the buffer goes out first, whole lines
	if w := out.get(); len(w) != 1 || w[0] != "0123456789\n0123456789\nabc\n" {
		t.Fatalf("writes %q", w)
	}
	long := strings.Repeat("x", 40) + "\n" // longer than the buffer: alone, after what was buffered
	b.Write([]byte(long))
	if w := out.get(); len(w) != 3 || w[1] != "0123456789\n" || w[2] != long {
		t.Fatalf("writes %q", w)
	}
	b.Write([]byte("tail\n"))
	b.Flush()
	b.Flush() // nothing left: no empty write
	if w := out.get(); len(w) != 4 || w[3] != "tail\n" {
		t.Fatalf("writes %q", w)
	}
}

// A request never waits for a shard another one holds while a free one is left, and
// lines written from many goroutines come out whole, each once, in writes of at most the
// buffer's size.
func TestBufferedLogShardsTakeNoSharedLock(t *testing.T) {
	out := &countingWriter{}
	b := newBufferedLog(out, 64, time.Hour, 2)
	b.shards[0].mu.Lock() // another request holds it (or a write(2) stalled under it)
	done := make(chan struct{})
	go func() {
		for range 10 {
			b.Write([]byte("free\n"))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a line waited for a held shard while another was free")
	}
	b.shards[0].mu.Unlock()

	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				b.Write([]byte(strings.Repeat(string(rune('a'+g)), 1+i%9) + "\n"))
			}
		}()
	}
	wg.Wait()
	if err := b.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := map[string]int{}
	for _, w := range out.get() {
		if len(w) > 64 || !strings.HasSuffix(w, "\n") {
			t.Fatalf("write of %d bytes, or not whole lines: %q", len(w), w)
		}
		for _, l := range strings.Split(strings.TrimSuffix(w, "\n"), "\n") {
			lines[l]++
		}
	}
	if lines["free"] != 10 {
		t.Errorf("%d of 10 lines written while a shard was held", lines["free"])
	}
	// Requests one after another find the first shard free: their lines stay in order.
	before := len(out.get())
	for _, l := range []string{"1\n", "2\n", "3\n"} {
		b.Write([]byte(l))
	}
	b.Flush()
	if w := out.get()[before:]; len(w) != 1 || w[0] != "1\n2\n3\n" {
		t.Errorf("lines of one request after another: writes %q, want one of \"1\\n2\\n3\\n\"", w)
	}
	for g := range 8 {
		for n := 1; n <= 9; n++ {
			l := strings.Repeat(string(rune('a'+g)), n)
			want := 200/9 + map[bool]int{true: 1}[n <= 200%9]
			if lines[l] != want {
				t.Errorf("line %q written %d times, want %d", l, lines[l], want)
			}
		}
	}
}

func TestBufferedLogFlushInterval(t *testing.T) {
	out := &countingWriter{}
	b := newBufferedLog(out, 4096, 20*time.Millisecond, 1)
	b.Write([]byte("one\n"))
	deadline := time.Now().Add(5 * time.Second)
	for len(out.get()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("line not flushed by the interval")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if w := out.get(); w[0] != "one\n" {
		t.Errorf("writes %q", w)
	}
}

// Reopen (USR1) flushes into the old file first; Close flushes what is left.
func TestBufferedAccessLogReopenAndClose(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	al, err := NewAccessLog(path, "%(m)s %(U)s")
	if err != nil {
		t.Fatal(err)
	}
	al.SetBuffer(0, time.Hour) // defaults for the size; no timer flush during the test
	logReq := func(p string) {
		r := newTestRequest(p)
		al.Log(r, 200, 0, nil, time.Now(), 0)
	}
	logReq("/before")
	if b, _ := os.ReadFile(path); len(b) != 0 {
		t.Fatalf("written through: %q", b)
	}
	os.Rename(path, path+".1") // logrotate
	if err := al.Reopen(); err != nil {
		t.Fatal(err)
	}
	logReq("/after")
	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	old, _ := os.ReadFile(path + ".1")
	cur, _ := os.ReadFile(path)
	if string(old) != "GET /before\n" || string(cur) != "GET /after\n" {
		t.Errorf("rotated %q, current %q", old, cur)
	}
}

func TestAccessLogWriteThrough(t *testing.T) {
	var out bytes.Buffer
	al, _ := NewAccessLogTo(&out, "%(U)s")
	al.SetBuffer(-1, 0)
	al.Log(newTestRequest("/x"), 200, 0, nil, time.Now(), 0)
	if out.String() != "/x\n" {
		t.Errorf("write-through: %q", out.String())
	}
}

func newTestRequest(path string) *http.Request {
	return httptest.NewRequest("GET", path, nil)
}

// The cached timestamps are what time.Format writes, across seconds and zones.
func TestAccessLogTimeCache(t *testing.T) {
	var c, z timeCache
	zones := []*time.Location{time.UTC, time.FixedZone("X", -(3*3600 + 1800))}
	base := time.Date(2026, 12, 1, 8, 59, 59, 0, time.UTC)
	for i, d := range []time.Duration{0, 7 * time.Millisecond, 999 * time.Millisecond, time.Second + 50*time.Millisecond, time.Hour} {
		for _, loc := range zones {
			at := base.Add(d).In(loc)
			if got, want := string(c.appendRFC3339Millis(nil, at, &z)), at.Format("2006-01-02T15:04:05.000Z07:00"); got != want {
				t.Errorf("%d %s: %q, want %q", i, loc, got, want)
			}
			if got, want := string(c.appendSecond(nil, at, "02/Jan/2006:15:04:05 -0700")), at.Format("02/Jan/2006:15:04:05 -0700"); got != want {
				t.Errorf("%d %s text: %q, want %q", i, loc, got, want)
			}
		}
	}
}

// BenchmarkBufferedAccessLogParallel is the buffered JSON access log under requests on
// every P at once (run with -cpu 1,2,4: a lock all requests took showed as time growing
// with the Ps), written to /dev/null: real write(2) calls.
func BenchmarkBufferedAccessLogParallel(b *testing.B) {
	al, err := NewAccessLog(os.DevNull, "json")
	if err != nil {
		b.Fatal(err)
	}
	defer al.Close()
	al.SetBuffer(0, time.Second)
	r := newTestRequest("/hello")
	r.Header.Set("User-Agent", "wrk")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			al.Log(r, 200, 14, nil, logStart, time.Millisecond)
		}
	})
}
