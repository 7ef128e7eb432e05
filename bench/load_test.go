package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadCountsFailures checks that the load generator sees what net/http's
// client would hide: keep-alive connections closed before an answer, and
// non-2xx answers, each counted under its own cause.
func TestLoadCountsFailures(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch k := n.Add(1); {
		case k%50 == 0:
			// Drop the connection without answering, as a killed worker would.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
		case k%20 == 0:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		default:
			_, _ = w.Write([]byte("ok\n"))
		}
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	defer srv.Close()

	r, err := Load(LoadConfig{Addr: ln.Addr().String(), Path: "/x", Conns: 4, Duration: 300 * time.Millisecond, Latency: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK == 0 || r.Failures[failClosed] == 0 || r.Failures[failStatus] == 0 {
		t.Fatalf("ok %d, failures %v: want 2xx, closed-unanswered and non-2xx all counted", r.OK, r.Failures)
	}
	served := n.Load()
	if got := r.OK + r.Failed(); got < served-4 || got > served {
		t.Errorf("counted %d requests (ok+failed), server saw %d", got, served)
	}
	if len(r.Buckets) != 3 {
		t.Errorf("%d buckets for 300ms at 100ms, want 3", len(r.Buckets))
	}
	var sum int64
	for _, b := range r.Buckets {
		sum += b
	}
	if sum != r.OK {
		t.Errorf("buckets sum to %d, OK is %d", sum, r.OK)
	}
	if r.P50 <= 0 || r.P99 < r.P50 {
		t.Errorf("latency p50 %v p99 %v", r.P50, r.P99)
	}
	if s := r.FailureSummary(); !strings.Contains(s, "closed-unanswered") || !strings.Contains(s, "non-2xx") {
		t.Errorf("summary %q", s)
	}
}

func TestLoadConnectFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nobody listening now
	r, err := Load(LoadConfig{Addr: addr, Conns: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK != 0 || r.Failures[failConnect] == 0 {
		t.Errorf("ok %d, failures %v: want only connect failures", r.OK, r.Failures)
	}
}

func TestLoadRates(t *testing.T) {
	r := LoadResult{Bucket: 100 * time.Millisecond, Buckets: []int64{10, 20, 30, 0, 40}, Fails: []int64{0, 1, 0, 2, 0}}
	if got := r.Rate(0, 200*time.Millisecond); got != 150 {
		t.Errorf("Rate = %v, want 150", got)
	}
	if got := r.MinRate(100*time.Millisecond, 500*time.Millisecond); got != 0 {
		t.Errorf("MinRate = %v, want 0", got)
	}
	if got := r.FailuresIn(0, time.Second); got != 3 {
		t.Errorf("FailuresIn = %v, want 3", got)
	}
}
