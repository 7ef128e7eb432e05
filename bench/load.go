package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// The fault scenarios use this load generator rather than wrk: it counts every
// failed request by cause and keeps a per-bucket throughput series. It speaks
// HTTP/1.1 over its own connections and never retries, unlike net/http's
// client, which silently re-sends idempotent requests on a reused connection
// the server closed, and so would hide exactly the failures being measured.

// Failure classes, in the order the report lists them.
const (
	failConnect = "connect"           // dial failed (refused: nobody listening)
	failClosed  = "closed-unanswered" // reused keep-alive connection closed before any response byte
	failReset   = "reset"             // connection broke after part of a response, or on a fresh connection
	failTimeout = "timeout"           // no complete response within the request timeout
	failStatus  = "non-2xx"           // a response, but not 2xx
)

var failClasses = []string{failConnect, failClosed, failReset, failTimeout, failStatus}

// LoadConfig describes one load run.
type LoadConfig struct {
	Addr     string        // host:port
	Path     string        // request path
	Conns    int           // concurrent connections, one request in flight on each
	Duration time.Duration // how long to send
	Bucket   time.Duration // width of one throughput bucket; default 100ms
	Timeout  time.Duration // per-request limit; default 2s
	Latency  bool          // record each 2xx's latency (P50, P99)
}

// LoadResult is what a load run saw.
type LoadResult struct {
	OK       int64            // 2xx responses
	Failures map[string]int64 // class -> count
	Buckets  []int64          // 2xx responses completed in each bucket
	Fails    []int64          // failures in each bucket
	Bucket   time.Duration
	Elapsed  time.Duration
	P50, P99 float64 // milliseconds, with LoadConfig.Latency
}

// Failed is the number of failed requests of every class.
func (r LoadResult) Failed() int64 {
	var n int64
	for _, v := range r.Failures {
		n += v
	}
	return n
}

// Rate is the mean 2xx throughput over buckets [from, to).
func (r LoadResult) Rate(from, to time.Duration) float64 {
	i, j := int(from/r.Bucket), int(to/r.Bucket)
	if j > len(r.Buckets) {
		j = len(r.Buckets)
	}
	if i < 0 || i >= j {
		return 0
	}
	var n int64
	for _, v := range r.Buckets[i:j] {
		n += v
	}
	return float64(n) / (time.Duration(j-i) * r.Bucket).Seconds()
}

// MinRate is the lowest single-bucket 2xx throughput over [from, to).
func (r LoadResult) MinRate(from, to time.Duration) float64 {
	i, j := int(from/r.Bucket), int(to/r.Bucket)
	if j > len(r.Buckets) {
		j = len(r.Buckets)
	}
	if i < 0 || i >= j {
		return 0
	}
	lowest := r.Buckets[i]
	for _, v := range r.Buckets[i:j] {
		lowest = min(lowest, v)
	}
	return float64(lowest) / r.Bucket.Seconds()
}

// FailuresIn counts failures in buckets [from, to).
func (r LoadResult) FailuresIn(from, to time.Duration) int64 {
	i, j := int(from/r.Bucket), int(to/r.Bucket)
	if j > len(r.Fails) {
		j = len(r.Fails)
	}
	var n int64
	for k := max(i, 0); k < j; k++ {
		n += r.Fails[k]
	}
	return n
}

// FailureSummary lists non-zero classes, e.g. "3 reset, 1 connect", or "0".
func (r LoadResult) FailureSummary() string {
	s := ""
	for _, c := range failClasses {
		if n := r.Failures[c]; n > 0 {
			if s != "" {
				s += ", "
			}
			s += fmt.Sprintf("%d %s", n, c)
		}
	}
	if s == "" {
		return "0"
	}
	return s
}

type loadRun struct {
	cfg   LoadConfig
	start time.Time
	end   time.Time
	ok    []atomic.Int64
	fails []atomic.Int64
	mu    sync.Mutex
	by    map[string]int64
	lat   []float64
}

// Load runs cfg against its server and returns when Duration has passed and
// every in-flight request has finished or timed out.
func Load(cfg LoadConfig) (LoadResult, error) {
	if cfg.Conns <= 0 || cfg.Duration <= 0 || cfg.Addr == "" {
		return LoadResult{}, errors.New("load: Addr, Conns and Duration are required")
	}
	if cfg.Bucket <= 0 {
		cfg.Bucket = 100 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Second
	}
	if cfg.Path == "" {
		cfg.Path = "/"
	}
	n := int(cfg.Duration/cfg.Bucket) + 1
	lr := &loadRun{cfg: cfg, ok: make([]atomic.Int64, n), fails: make([]atomic.Int64, n), by: map[string]int64{}}
	lr.start = time.Now()
	lr.end = lr.start.Add(cfg.Duration)
	var wg sync.WaitGroup
	for range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lr.client()
		}()
	}
	wg.Wait()
	res := LoadResult{Failures: lr.by, Bucket: cfg.Bucket, Elapsed: time.Since(lr.start)}
	if cfg.Latency {
		res.P50, res.P99 = percentile(lr.lat, 50), percentile(lr.lat, 99)
	}
	res.Buckets = make([]int64, n)
	res.Fails = make([]int64, n)
	for i := range n {
		res.Buckets[i] = lr.ok[i].Load()
		res.Fails[i] = lr.fails[i].Load()
		res.OK += res.Buckets[i]
	}
	// The last bucket is partial (Duration need not be a multiple of Bucket); drop it.
	if cfg.Duration%cfg.Bucket == 0 {
		res.OK -= res.Buckets[n-1]
		res.Buckets, res.Fails = res.Buckets[:n-1], res.Fails[:n-1]
	}
	return res, nil
}

func (lr *loadRun) bucket(t time.Time) int {
	i := int(t.Sub(lr.start) / lr.cfg.Bucket)
	return min(max(i, 0), len(lr.ok)-1)
}

func (lr *loadRun) fail(class string) {
	lr.fails[lr.bucket(time.Now())].Add(1)
	lr.mu.Lock()
	lr.by[class]++
	lr.mu.Unlock()
}

// countingConn counts bytes read, to tell "closed before any response byte"
// from a response cut in the middle.
type countingConn struct {
	net.Conn
	read int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read += int64(n)
	return n, err
}

func (lr *loadRun) client() {
	req := []byte("GET " + lr.cfg.Path + " HTTP/1.1\r\nHost: " + lr.cfg.Addr + "\r\nUser-Agent: scaffold-bench\r\n\r\n")
	var (
		conn   *countingConn
		br     *bufio.Reader
		served int // requests answered on conn
		lat    []float64
	)
	defer func() {
		lr.mu.Lock()
		lr.lat = append(lr.lat, lat...)
		lr.mu.Unlock()
	}()
	closeConn := func() {
		if conn != nil {
			conn.Close()
			conn = nil
		}
	}
	defer closeConn()
	for time.Now().Before(lr.end) {
		if conn == nil {
			c, err := net.DialTimeout("tcp", lr.cfg.Addr, lr.cfg.Timeout)
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					lr.fail(failTimeout)
				} else {
					lr.fail(failConnect)
				}
				// Refused connects return at once: pace them like a client's retry would.
				time.Sleep(10 * time.Millisecond)
				continue
			}
			conn, br, served = &countingConn{Conn: c}, bufio.NewReader(nil), 0
			br.Reset(conn)
		}
		sent := time.Now()
		_ = conn.SetDeadline(sent.Add(lr.cfg.Timeout))
		before := conn.read // one request in flight: nothing of the next response is buffered yet
		if _, err := conn.Write(req); err != nil {
			lr.fail(lr.classify(err, served > 0, true))
			closeConn()
			continue
		}
		resp, err := http.ReadResponse(br, nil)
		if err == nil {
			_, err = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if err != nil {
			nothing := conn.read == before
			lr.fail(lr.classify(err, served > 0, nothing))
			closeConn()
			continue
		}
		served++
		if resp.StatusCode/100 == 2 {
			now := time.Now()
			lr.ok[lr.bucket(now)].Add(1)
			if lr.cfg.Latency {
				lat = append(lat, float64(now.Sub(sent))/float64(time.Millisecond))
			}
		} else {
			lr.fail(failStatus)
		}
		if resp.Close {
			closeConn()
		}
	}
}

func (lr *loadRun) classify(err error, reused, nothingRead bool) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return failTimeout
	}
	if reused && nothingRead {
		return failClosed
	}
	return failReset
}

// percentile returns the p-th percentile (0..100) of xs (sorted in place).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	i := int(p / 100 * float64(len(xs)-1))
	return xs[i]
}
