// Package devloop measures the dev loop: how long after a save the new code answers
// under `scaffold run --dev` (internal/devrun, in-process), next to the plain `go build`
// time of the same change and to air (github.com/air-verse/air) on the same generated
// project in the same run, with a client polling throughout to count failed requests.
//
//	res, err := devloop.Run(ctx, devloop.Options{Edits: 5})
//	fmt.Print(res.Markdown())
//
// Each edit changes the sample handler's Go code (web/home/home.go), so every tool has to
// compile and restart; the save-to-response time is from just before the file is written
// to the first response carrying the new text.
package devloop

import (
	"bytes"
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
	"sync"
	"sync/atomic"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/devrun"
)

// AirVersion is the air release compared against.
const AirVersion = "v1.67.4"

// AirInstall is the command that installs it.
const AirInstall = "go install github.com/air-verse/air@" + AirVersion

// Options configure Run. Zero fields take the documented defaults.
type Options struct {
	Edits       int           // edits measured per tool; default 5
	Dir         string        // a generated project to use (edited!); default: a fresh one in a temporary directory
	AirPath     string        // default: "air" on $PATH, else $GOPATH/bin/air (~/go/bin/air)
	SkipAir     bool          // measure scaffold and go build only
	Env         []string      // builds' and apps' environment; default os.Environ() + GOFLAGS=-mod=mod GOPROXY=off
	EditTimeout time.Duration // longest wait for one edit to be served; default 60s
	Poll        time.Duration // interval of the failure-counting client; default 10ms
	Log         io.Writer     // progress lines; default io.Discard
}

// Measure is one tool's figures.
type Measure struct {
	Tool      string
	Latencies []time.Duration // save to new response, one per edit
	Mean      time.Duration
	Median    time.Duration
	Min, Max  time.Duration
	// Overhead is, for scaffold only, the mean of save-to-response minus the runner's own
	// build time of that edit: what the loop adds to the compiler (debounce, start, ready),
	// free of the machine's noise between separate builds.
	Overhead time.Duration
	Requests int64    // made by the polling client during the edits
	Failed   int64    // of those: refused, reset, timed out or not 200
	Errors   []string // the first few failures
}

// Result is the whole run.
type Result struct {
	Edits    int
	Scaffold Measure
	GoBuild  Measure  // plain `go build -o BIN ./run` of the same kind of edit; no requests
	Air      *Measure // nil when air was skipped or is not installed
	AirNote  string   // why Air is nil, e.g. "not installed: go install ..."
	Started  time.Time
	Took     time.Duration
}

// Run measures scaffold's dev loop, go build and air, in that order.
func Run(ctx context.Context, o Options) (Result, error) {
	res := Result{Started: time.Now()}
	if o.Edits <= 0 {
		o.Edits = 5
	}
	if o.EditTimeout <= 0 {
		o.EditTimeout = 60 * time.Second
	}
	if o.Poll <= 0 {
		o.Poll = 10 * time.Millisecond
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Env == nil {
		o.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOWORK=off")
	}
	res.Edits = o.Edits
	dir := o.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "devloop-")
		if err != nil {
			return res, err
		}
		defer os.RemoveAll(tmp)
		dir = filepath.Join(tmp, "demo")
		pc, err := project.Generate(project.Options{Name: "demo"})
		if err != nil {
			return res, err
		}
		if err := state.Commit(pc.Files, dir, false); err != nil {
			return res, err
		}
	}
	b := &bench{o: o, dir: dir, handler: filepath.Join(dir, "web", "home", "home.go")}
	orig, err := os.ReadFile(b.handler)
	if err != nil {
		return res, fmt.Errorf("devloop: %w (is %s a generated project?)", err, dir)
	}
	if !bytes.Contains(orig, []byte(handlerAnchor)) {
		return res, fmt.Errorf("devloop: %s no longer contains %q; the bench edits that line", b.handler, handlerAnchor)
	}
	b.orig = orig
	defer os.WriteFile(b.handler, orig, 0o644)

	// Warm the build cache so no tool pays for the first compile of the standard library.
	fmt.Fprintf(o.Log, "devloop: warming the build cache in %s\n", dir)
	if _, err := b.goBuild(ctx); err != nil {
		return res, err
	}
	if res.Scaffold, err = b.scaffold(ctx); err != nil {
		return res, err
	}
	if res.GoBuild, err = b.plainBuild(ctx); err != nil {
		return res, err
	}
	switch path := findAir(o.AirPath); {
	case o.SkipAir:
		res.AirNote = "skipped"
	case path == "":
		res.AirNote = "not installed: " + AirInstall
	default:
		m, err := b.air(ctx, path)
		if err != nil {
			return res, err
		}
		res.Air = &m
	}
	res.Took = time.Since(res.Started)
	return res, nil
}

// handlerAnchor is the line of the sample handler each edit changes: /api/hello's answer.
const handlerAnchor = `App: d.Site.Name,`

type bench struct {
	o       Options
	dir     string
	handler string
	orig    []byte
	n       int // edits so far, for unique markers
	// lastBuild is the duration of the dev runner's latest successful build (ns).
	lastBuild atomic.Int64
	overheads []time.Duration
}

// edit rewrites the handler so the page shows a new marker, and returns the marker.
func (b *bench) edit(tool string) (string, error) {
	b.n++
	marker := fmt.Sprintf("%s-edit-%d", tool, b.n)
	text := bytes.Replace(b.orig, []byte(handlerAnchor),
		[]byte(`App: d.Site.Name + " `+marker+`",`), 1)
	return marker, os.WriteFile(b.handler, text, 0o644)
}

func (b *bench) goBuild(ctx context.Context) (time.Duration, error) {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(os.TempDir(), "devloop-plain-"+strconv.Itoa(os.Getpid())), "./run")
	cmd.Dir = b.dir
	cmd.Env = b.o.Env
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	os.Remove(cmd.Args[3])
	if err != nil {
		return took, fmt.Errorf("devloop: go build ./run: %v\n%s", err, out)
	}
	return took, nil
}

// plainBuild times `go build` of the same kind of edit, nothing else running.
func (b *bench) plainBuild(ctx context.Context) (Measure, error) {
	m := Measure{Tool: "go build"}
	for range b.o.Edits {
		if _, err := b.edit("build"); err != nil {
			return m, err
		}
		took, err := b.goBuild(ctx)
		if err != nil {
			return m, err
		}
		m.Latencies = append(m.Latencies, took)
	}
	m.summarise()
	fmt.Fprintf(b.o.Log, "devloop: go build: mean %s\n", m.Mean.Round(time.Millisecond))
	return m, nil
}

// scaffold measures internal/devrun, the runner behind `scaffold run --dev`.
func (b *bench) scaffold(ctx context.Context) (Measure, error) {
	m := Measure{Tool: "scaffold run --dev"}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	addrs := make(chan string, 1)
	ready := make(chan struct{}, 64)
	runErr := make(chan error, 1)
	var logBuf lockedBuffer
	go func() {
		runErr <- devrun.Run(rctx, devrun.Options{
			Dir: b.dir, Bind: "127.0.0.1:0", Env: b.o.Env, Stdout: io.Discard, Stderr: &logBuf,
			OnEvent: func(ev devrun.Event) {
				switch ev.Kind {
				case devrun.EventListening:
					addrs <- ev.Addr
				case devrun.EventBuildOK:
					b.lastBuild.Store(int64(ev.Took))
				case devrun.EventReady:
					select {
					case ready <- struct{}{}:
					default:
					}
				}
			},
		})
	}()
	var addr string
	select {
	case addr = <-addrs:
	case err := <-runErr:
		return m, fmt.Errorf("devloop: scaffold dev runner: %w", err)
	}
	select {
	case <-ready:
	case err := <-runErr:
		return m, fmt.Errorf("devloop: scaffold dev runner stopped: %v\n%s", err, logBuf.String())
	case <-time.After(b.o.EditTimeout):
		return m, fmt.Errorf("devloop: scaffold dev runner not ready within %s:\n%s", b.o.EditTimeout, logBuf.String())
	}
	b.overheads = []time.Duration{}
	err := b.measureEdits(ctx, &m, "http://"+addr+"/api/hello", "scaffold")
	b.overheads, m.Overhead = nil, mean(b.overheads)
	if err != nil {
		return m, fmt.Errorf("%w\nrunner output:\n%s", err, logBuf.String())
	}
	stop()
	select {
	case <-runErr:
	case <-time.After(20 * time.Second):
		return m, errors.New("devloop: scaffold dev runner did not stop within 20s")
	}
	return m, nil
}

// air measures air with its defaults (1 s delay), building the same entry.
func (b *bench) air(ctx context.Context, path string) (Measure, error) {
	m := Measure{Tool: "air " + AirVersion}
	port, err := freePort()
	if err != nil {
		return m, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	tmp, err := os.MkdirTemp("", "devloop-air-")
	if err != nil {
		return m, err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "main")
	cmd := exec.Command(path,
		"-build.cmd", "go build -o "+bin+" ./run",
		"-build.bin", bin,
	)
	defer os.RemoveAll(filepath.Join(b.dir, "tmp")) // air's own tmp_dir
	cmd.Dir = b.dir
	cmd.Env = append(slices.Clone(b.o.Env), "APP_SERVER_BIND="+addr) // the app's own override
	var logBuf lockedBuffer
	cmd.Stdout = &logBuf
	cmd.Stderr = &logBuf
	setGroup(cmd)
	if err := cmd.Start(); err != nil {
		return m, fmt.Errorf("devloop: start air: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		stopGroup(cmd.Process.Pid, exited)
	}()
	url := "http://" + addr + "/api/hello"
	deadline := time.Now().Add(b.o.EditTimeout)
	for !serves(url, "demo") {
		if time.Now().After(deadline) {
			return m, fmt.Errorf("devloop: air did not serve %s within %s:\n%s", url, b.o.EditTimeout, logBuf.String())
		}
		select {
		case <-exited:
			return m, fmt.Errorf("devloop: air exited:\n%s", logBuf.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := b.measureEdits(ctx, &m, url, "air"); err != nil {
		return m, fmt.Errorf("%w\nair output:\n%s", err, logBuf.String())
	}
	return m, nil
}

// measureEdits makes o.Edits edits to a running tool at url, timing each from the save to
// the first response with the new text, while a second client polls to count failures.
func (b *bench) measureEdits(ctx context.Context, m *Measure, url, tool string) error {
	p := startPoller(url, b.o.Poll)
	defer func() {
		p.halt()
		m.Requests, m.Failed = p.ok.Load()+p.fail.Load(), p.fail.Load()
		m.Errors = p.firstErrors()
		m.summarise()
		fmt.Fprintf(b.o.Log, "devloop: %s: mean %s, %d requests, %d failed\n", m.Tool, m.Mean.Round(time.Millisecond), m.Requests, m.Failed)
	}()
	client := &http.Client{Timeout: 5 * time.Second}
	for range b.o.Edits {
		start := time.Now()
		marker, err := b.edit(tool)
		if err != nil {
			return err
		}
		for {
			if body, err := get(client, url); err == nil && strings.Contains(body, marker) {
				break
			}
			if time.Since(start) > b.o.EditTimeout {
				return fmt.Errorf("devloop: %s: edit %q not served within %s", m.Tool, marker, b.o.EditTimeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(2 * time.Millisecond):
			}
		}
		took := time.Since(start)
		m.Latencies = append(m.Latencies, took)
		if b.overheads != nil {
			b.overheads = append(b.overheads, took-time.Duration(b.lastBuild.Load()))
		}
		// Let the replaced process drain before the next save, as between real edits.
		time.Sleep(500 * time.Millisecond)
	}
	return nil
}

func mean(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range ds {
		sum += d
	}
	return sum / time.Duration(len(ds))
}

func (m *Measure) summarise() {
	if len(m.Latencies) == 0 {
		return
	}
	s := slices.Clone(m.Latencies)
	slices.Sort(s)
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	m.Mean = sum / time.Duration(len(s))
	m.Median = s[len(s)/2]
	m.Min, m.Max = s[0], s[len(s)-1]
}

// Markdown renders the result as a table and a closing sentence.
func (r Result) Markdown() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "| tool | save to new response, mean | median | min | max | requests | failed |\n")
	fmt.Fprintf(&sb, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	row := func(m Measure, requests bool) {
		req, failed := "-", "-"
		if requests {
			req, failed = strconv.FormatInt(m.Requests, 10), strconv.FormatInt(m.Failed, 10)
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s |\n", m.Tool, ms(m.Mean), ms(m.Median), ms(m.Min), ms(m.Max), req, failed)
	}
	row(r.Scaffold, true)
	row(r.GoBuild, false)
	if r.Air != nil {
		row(*r.Air, true)
	} else {
		fmt.Fprintf(&sb, "| air %s | %s | | | | | |\n", AirVersion, r.AirNote)
	}
	fmt.Fprintf(&sb, "\n%d edits of a Go handler each; go build is the plain `go build -o BIN ./run` of the same edit. ", r.Edits)
	fmt.Fprintf(&sb, "scaffold: %s over the separate go build mean; %s over its own build of each edit "+
		"(save to response minus the runner's build time; target: at most 200 ms); %d failed requests.",
		ms(r.Scaffold.Mean-r.GoBuild.Mean), ms(r.Scaffold.Overhead), r.Scaffold.Failed)
	if r.Air != nil {
		fmt.Fprintf(&sb, " air (default 1 s delay): %s, %d failed requests.", ms(r.Air.Mean), r.Air.Failed)
	}
	sb.WriteString("\n")
	return sb.String()
}

func ms(d time.Duration) string {
	return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
}

// findAir returns the air binary to use, or "".
func findAir(explicit string) string {
	if explicit != "" {
		if _, err := os.Stat(explicit); err == nil {
			return explicit
		}
		return ""
	}
	if p, err := exec.LookPath("air"); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, _ := os.UserHomeDir()
		gopath = filepath.Join(home, "go")
	}
	p := filepath.Join(gopath, "bin", "air")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

func serves(url, want string) bool {
	body, err := get(&http.Client{Timeout: time.Second}, url)
	return err == nil && strings.Contains(body, want)
}

// poller requests url every interval and counts failures.
type poller struct {
	ok, fail atomic.Int64
	mu       sync.Mutex
	errs     []string
	stop     chan struct{}
	done     chan struct{}
}

func startPoller(url string, every time.Duration) *poller {
	p := &poller{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 10 * time.Second}
	go func() {
		defer close(p.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
			}
			if _, err := get(client, url); err != nil {
				p.fail.Add(1)
				p.mu.Lock()
				if len(p.errs) < 5 {
					p.errs = append(p.errs, err.Error())
				}
				p.mu.Unlock()
			} else {
				p.ok.Add(1)
			}
		}
	}()
	return p
}

func (p *poller) halt() {
	close(p.stop)
	<-p.done
}

func (p *poller) firstErrors() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.errs)
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
