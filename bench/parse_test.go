package main

import (
	"math"
	"testing"
)

const wrkOutput = `Running 3s test @ http://127.0.0.1:8000/hello
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.08ms    2.71ms  52.52ms   95.01%
    Req/Sec    13.82k     2.11k   17.92k    70.00%
  Latency Distribution
     50%  880.00us
     75%    1.10ms
     90%    1.52ms
     99%   15.97ms
  82576 requests in 3.00s, 10.63MB read
  Socket errors: connect 0, read 12, write 1, timeout 2
  Non-2xx or 3xx responses: 5
Requests/sec:  27510.33
Transfer/sec:      3.54MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := WrkResult{RPS: 27510.33, P50: 0.88, P99: 15.97, Requests: 82576, Errors: 20}
	if math.Abs(r.RPS-want.RPS) > 1e-6 || math.Abs(r.P50-want.P50) > 1e-9 || math.Abs(r.P99-want.P99) > 1e-9 || r.Requests != want.Requests || r.Errors != want.Errors {
		t.Errorf("parseWrk = %+v, want %+v", r, want)
	}
	if _, err := parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n"); err == nil {
		t.Error("output without Requests/sec: no error")
	}
}

func TestParseWrkDuration(t *testing.T) {
	for in, want := range map[string]float64{"312.00us": 0.312, "1.20ms": 1.2, "2.00s": 2000, "1.50m": 90000} {
		got, err := parseWrkDuration(in)
		if err != nil || math.Abs(got-want) > 1e-9 {
			t.Errorf("parseWrkDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := parseWrkDuration("12parsecs"); err == nil {
		t.Error("unknown unit: no error")
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/scaffoldgo/scaffold/bench
BenchmarkGenerate-2   	      13	  10744530 ns/op	 2890896 B/op	   20033 allocs/op
PASS
pkg: github.com/scaffoldgo/scaffold/runtime/prefork
BenchmarkAccessLogJSON-2         	  600000	      2019 ns/op	      24 B/op	       2 allocs/op
ok  	github.com/scaffoldgo/scaffold/runtime/prefork	1.2s
`
	rows := parseGoBench(out)
	if len(rows) != 2 {
		t.Fatalf("parsed %d rows, want 2: %+v", len(rows), rows)
	}
	if r := rows[0]; r.Package != "github.com/scaffoldgo/scaffold/bench" || r.Name != "BenchmarkGenerate" || r.NsPerOp != 10744530 || r.BytesPerOp != 2890896 || r.AllocsPerOp != 20033 {
		t.Errorf("row 0 = %+v", r)
	}
	if r := rows[1]; r.Package != "github.com/scaffoldgo/scaffold/runtime/prefork" || r.Name != "BenchmarkAccessLogJSON" || r.NsPerOp != 2019 {
		t.Errorf("row 1 = %+v", r)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}
