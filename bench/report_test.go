package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeResults is a run with every section filled, and one tool missing.
func fakeResults() *Results {
	series := make([]float64, 90)
	for i := range series {
		series[i] = 20000
		if i >= 20 && i < 70 && i%5 == 0 {
			series[i] = 9000
		}
	}
	return &Results{
		Date:    time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC),
		Machine: Machine{CPU: "Test CPU", Cores: 2, Kernel: "Linux 6.1", Go: "go1.26", Free: "Mem: 24105 529"},
		Tools: []Tool{
			{Name: "wrk", Version: "wrk 4.1.0", Installed: true, Install: "apt-get install wrk"},
			{Name: "uwsgi", Installed: false, Install: "apt-get install uwsgi uwsgi-plugin-python3 python3-flask"},
		},
		Load:     LoadSettings{Generator: "wrk", Threads: 2, Conns: 32, Duration: "3s", Rounds: 3},
		Commands: []string{"wrk -t2 -c32 -d3s --latency http://ADDR/ROUTE"},
		Throughput: []ThroughputRow{
			{Server: "runtime w=1", Family: "runtime", Workers: 1, Route: "hello", Path: "/hello", RPS: 19000, P50: 1.1, P99: 4.2},
			{Server: "runtime w=2", Family: "runtime", Workers: 2, Route: "hello", Path: "/hello", RPS: 21000, P50: 1, P99: 3.9},
			{Server: "net/http", Family: "net/http", Route: "hello", Path: "/hello", RPS: 20000, P50: 1, P99: 4},
			{Server: "net/http", Family: "net/http", Route: "json", Path: "/json", RPS: 18000, P50: 1, P99: 4},
			{Server: "gunicorn sync w=4", Family: "gunicorn", Workers: 4, Route: "hello", Path: "/hello", RPS: 2500, P50: 9, P99: 90, Errors: 3},
			{Server: "net/http w=2", Family: "net/http", Workers: 2, Route: "hello", Path: "/hello", RPS: 25000, P50: 1, P99: 4, RoundsRPS: []float64{20000, 30000, 25000}, CPUPerReq: 20},
			{Server: productionApp, Family: "runtime", Workers: 2, Route: "hello", Path: "/healthz", RPS: 24000, P50: 1, P99: 4, RoundsRPS: []float64{18000, 24000, 25000}, CPUPerReq: 25},
			{Server: productionApp + ", traces sampled 1.0", Family: "runtime", Workers: 2, Route: "hello", Path: "/healthz", RPS: 20000, P50: 1, P99: 4, CPUPerReq: 31},
		},
		Startup: []StartupRow{{Server: "generated app w=4", Workers: 4, FirstOK: []float64{70, 80, 75}, MasterRSSKB: 10240, WorkerRSSKB: []int64{10240, 10240, 10240, 10240}}},
		Faults: []FaultRow{
			{Server: "generated app w=4", Family: "runtime", Scenario: "hup", Signals: 10, OK: 100000, SteadyRPS: 20000, DuringRPS: 15000, MinRPS: 9000, FailDetail: "0", BucketMS: 100, Series: series, FaultStart: 2, FaultEnd: 7},
			{Server: "gunicorn sync w=4", Family: "gunicorn", Scenario: "hup", Signals: 10, OK: 5000, Failed: 64, FailDetail: "64 timeout", SteadyRPS: 2400, DuringRPS: 600, BucketMS: 100, Series: []float64{2400, 0, 600}, FaultStart: 2, FaultEnd: 7},
			{Server: "generated app w=4", Family: "runtime", Scenario: "kill", Signals: 10, OK: 90000, Failed: 97, FailDetail: "97 closed-unanswered", SteadyRPS: 20000, DuringRPS: 19000, ReplaceMS: []float64{30, 41, 500}, BucketMS: 100, Series: series, FaultStart: 2, FaultEnd: 7},
			{Server: "generated app w=4", Family: "runtime", Scenario: "usr2", Signals: 1, OK: 90000, FailDetail: "0", SteadyRPS: 20000, DuringRPS: 17000, TakeoverMS: 205, OldExitMS: 438, BucketMS: 100, Series: series, FaultStart: 2, FaultEnd: 7},
		},
		DevLoop: []DevLoopRow{
			{Tool: "scaffold run --dev", Edits: 5, MeanMS: 950, MedianMS: 900, MinMS: 800, MaxMS: 1200, Requests: 400, Failed: 0, OverheadMS: 120},
			{Tool: "go build", Edits: 5, MeanMS: 800, MedianMS: 790, MinMS: 700, MaxMS: 900, Requests: -1},
			{Tool: "air v1.67.4", Note: "not installed: go install github.com/air-verse/air@v1.67.4"},
		},
		Micro: []MicroRow{{Package: "github.com/scaffoldgo/scaffold/bench", Name: "BenchmarkGenerate", NsPerOp: 1.07e7, BytesPerOp: 2.9e6, AllocsPerOp: 20033}},
		Notes: []string{"uwsgi: not installed (`apt-get install uwsgi uwsgi-plugin-python3 python3-flask`); its rows are left out."},
	}
}

func TestReport(t *testing.T) {
	md := Report(fakeResults())
	for _, want := range []string{
		"# Benchmarks",
		"2026-11-22 09:30 UTC",
		"| runtime w=1 | 19000 | 4.20 | 0.95x | 7.60x |", // headline: vs net/http, vs Gunicorn
		"| runtime w=2 | 21000 | 3.90 | 1.05x | 8.40x |",
		"| uwsgi | not installed: `apt-get install uwsgi uwsgi-plugin-python3 python3-flask` |",
		"| net/http | /json | 18000 | 1.00 | 4.00 | 0 | - | 1.00x | - | - |",
		// per-round ratios 0.9, 0.8, 1.0 against net/http w=2; by CPU 20/25
		"| generated app w=2 production | /healthz | 24000 | 1.00 | 4.00 | 0 | 25.0 | 1.20x | 0.90x | 0.80x |",
		"Traces sampled 1.0 instead of 0.1 on `/healthz`: +6.0 µs of server CPU per request (31.0 over 25.0).",
		"| gunicorn sync w=4: HUP every 0.5 s | 64 timeout | 25% |",
		"*closed-unanswered*: a killed worker's idle keep-alive connections",
		"| generated app w=4 | SIGKILL a worker every 0.5 s | 10 | 90000 | 97 closed-unanswered | 20000 | 19000 | 95% |",
		"| 41 / 500 |",
		"205 (old master gone at 438)",
		"| generated app w=4 | 4 | 75 | 70 80 75 | 10.0 | 10.0, 10.0, 10.0, 10.0 | 50.0 |",
		"| github.com/scaffoldgo/scaffold/bench | BenchmarkGenerate | 10700000 | 2900000 | 20033 |",
		"| scaffold run --dev | 5 | 900 | 950 | 800 | 1200 | 400 | 0 |",
		"| go build | 5 | 790 | 800 | 700 | 900 | - | - |",
		"| air v1.67.4 | not installed: go install github.com/air-verse/air@v1.67.4 |",
		"scaffold run --dev adds 120 ms on average",
		"| scaffold run --dev | 900 | 0 of 400 |", // headline
		"![throughput and reload behaviour](results.png)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q\n%s", want, md)
		}
	}
	if strings.Contains(md, "Quick run") {
		t.Error("a full run is labelled as a quick run")
	}
	r := fakeResults()
	r.Quick = true
	if md := Report(r); !strings.Contains(md, "go run ./bench -quick") || !strings.Contains(md, "Quick run") {
		t.Error("a quick run is not labelled as one")
	}
}

func TestReportEmpty(t *testing.T) {
	md := Report(&Results{})
	for _, section := range []string{"## Throughput", "## Start-up", "## Reloads", "## Micro"} {
		if strings.Contains(md, section) {
			t.Errorf("empty results render section %q", section)
		}
	}
}

func TestWriteChart(t *testing.T) {
	for name, r := range map[string]*Results{"full": fakeResults(), "empty": {}} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.png")
			if err := WriteChart(r, path); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatalf("not a PNG: %v", err)
			}
			b := img.Bounds()
			if b.Dx() < 400 || b.Dy() < 300 {
				t.Fatalf("chart is %dx%d, too small to read", b.Dx(), b.Dy())
			}
			// The full run has three panels side by side.
			if name == "full" && b.Dx() < 2*b.Dy() {
				t.Errorf("chart is %dx%d, want three panels side by side", b.Dx(), b.Dy())
			}
			ents, _ := os.ReadDir(filepath.Dir(path))
			if len(ents) != 1 {
				t.Errorf("chart left temporary files: %v", ents)
			}
		})
	}
}

// The spec bench hands to bench/chart: the throughput bars per server and route, then a
// line per server through each fault scenario, in % of its steady throughput, with the
// fault phase's edges dashed.
func TestChartOf(t *testing.T) {
	spec := chartOf(fakeResults())
	if len(spec.Panels) != 3 {
		t.Fatalf("%d panels, want throughput, hup, kill", len(spec.Panels))
	}
	bars := spec.Panels[0]
	if !slices.Equal(bars.Categories, []string{"runtime w=1", "runtime w=2", "net/http", "gunicorn sync w=4", "net/http w=2",
		"generated app w=2 production", "generated app w=2 production, traces sampled 1.0"}) ||
		len(bars.Bars) != 2 || !slices.Equal(bars.Bars[1].Values, []float64{0, 0, 18000, 0, 0, 0, 0}) || math.Abs(bars.YMax-25000*1.15) > 1e-6 {
		t.Errorf("throughput panel = %+v", bars)
	}
	hup := spec.Panels[1]
	if hup.Title != "HUP every 0.5 s from 2 s to 7 s" || len(hup.Lines) != 4 {
		t.Fatalf("hup panel: %q with %d lines, want two servers and two edges", hup.Title, len(hup.Lines))
	}
	gun := hup.Lines[1]
	near := func(a, b [2]float64) bool { return math.Abs(a[0]-b[0]) < 1e-9 && math.Abs(a[1]-b[1]) < 1e-9 }
	if gun.Label != "gunicorn sync w=4 (64 failed)" || gun.Color != familyColor["gunicorn"] ||
		!slices.EqualFunc(gun.Points, [][2]float64{{0.05, 100}, {0.15, 0}, {0.25, 25}}, near) {
		t.Errorf("gunicorn's line = %+v", gun)
	}
	if edge := hup.Lines[3]; !edge.Dashed || edge.Label != "" || edge.Points[0][0] != 7 {
		t.Errorf("the fault phase's end = %+v, want an unlabelled dashed vertical at 7 s", edge)
	}
	if got := chartOf(&Results{}); len(got.Panels) != 0 {
		t.Errorf("empty results: %d panels", len(got.Panels))
	}
}

func TestResultsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.json")
	want := fakeResults()
	if err := want.save(path); err != nil {
		t.Fatal(err)
	}
	got, err := loadResults(path)
	if err != nil {
		t.Fatal(err)
	}
	if Report(got) != Report(want) {
		t.Error("a report rendered from results.json differs from the original")
	}
}

func TestRunFlagErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-d", "10s"},
		{"-d", "0s"},
		{"-only", "throughput,bogus"},
		{"-t", "8", "-c", "4"},
		{"stray"},
	} {
		if err := run(args); err == nil {
			t.Errorf("run(%q) = nil, want an error", args)
		}
	}
	if err := run([]string{"-from", filepath.Join(t.TempDir(), "missing.json")}); err == nil {
		t.Error("-from a missing file: no error")
	}
}

func TestRunFrom(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "in.json")
	if err := fakeResults().save(src); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := run([]string{"-from", src, "-out", out}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"RESULTS.md", "results.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}
