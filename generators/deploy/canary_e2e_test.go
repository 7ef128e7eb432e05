package deploy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// canaryRoute is a test-only file added to the generated project: GET /work
// behaves as the build file (CANARY_BUILD_FILE) said when the worker booted
// ("ok", "500", "slow 2": twice the base latency). A HUP re-executes the
// workers, so writing the file then reloading is a new build, with the
// binary built once.
const canaryRoute = `package web

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

const canaryBase = 30 * time.Millisecond

var canaryMode, canaryFactor = canaryBuild()

func canaryBuild() (string, float64) {
	b, _ := os.ReadFile(os.Getenv("CANARY_BUILD_FILE"))
	f := strings.Fields(string(b))
	mode, factor := "ok", 1.0
	if len(f) > 0 {
		mode = f[0]
	}
	if len(f) > 1 {
		factor, _ = strconv.ParseFloat(f[1], 64)
	}
	return mode, factor
}

func canaryWork(w http.ResponseWriter, r *http.Request) {
	time.Sleep(time.Duration(canaryFactor * float64(canaryBase)))
	if canaryMode == "500" {
		http.Error(w, "broken build", http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("build " + canaryMode + "\n"))
}
`

// TestCanaryReloadBehindNginxUnderWrk is issue 29's done-when: the generated
// project behind its generated nginx site, under wrk, reloaded with `NAME
// reload --wait` onto four builds in turn. A good build and a 1.2x slower
// one are promoted with no failed request; a build answering 500 is rolled
// back with failed requests at most the canary's share of the window's
// requests plus 5%; a 2x slower one is rolled back on latency; after each
// rollback the old generation serves at full strength, NAME status says
// why, and reload --wait exited non-zero.
func TestCanaryReloadBehindNginxUnderWrk(t *testing.T) {
	ctx, deadline := endToEnd(t, "builds a project and reloads it behind nginx under wrk", 6*time.Minute, "nginx", "wrk", "go")

	dir := newProject(t, "demo")
	bin := buildWithRoute(t, ctx, dir, `mux.HandleFunc("GET /work", canaryWork)`, "canary_build.go", canaryRoute)
	tmp := t.TempDir()
	socket, ctl, buildFile := filepath.Join(tmp, "demo.sock"), filepath.Join(tmp, "demo.ctl"), filepath.Join(tmp, "build")
	writeFile(t, buildFile, "ok")
	// Two workers, a 3 s window (the generated production config's is longer).
	env := append(os.Environ(), "APP_ENV=production", "APP_APP_STATIC_DIR=web/static", "CANARY_BUILD_FILE="+buildFile)
	startAppOn(t, deadline, dir, env, socket, bin, "-c", "config", "-b", "unix:"+socket, "-w", "2", "--control-socket", ctl,
		"--canary-window", "3", "--canary-min-requests", "50")
	base, accessLog := startSiteLogs(t, dir, Options{Socket: socket, StaticDir: filepath.Join(dir, "web", "static")})
	if _, err := os.Stat(accessLog); err != nil {
		t.Fatalf("the site's access log: %v", err)
	}

	gen := 1 // the generation serving
	// each build, and the reason it is rolled back for ("": promoted)
	for _, tc := range []struct{ build, rollback string }{{"ok", ""}, {"500", "errors"}, {"slow 2", "latency"}, {"slow 1.2", ""}} {
		w := startWrk(t, ctx, base+"/work")
		time.Sleep(time.Second) // the old generation's baseline
		writeFile(t, buildFile, tc.build)
		window := watchCanaryWindow(ctl, func() int64 { return countLines(accessLog) })
		reload := exec.CommandContext(ctx, bin, "reload", "--wait", "--control-socket", ctl)
		out, reloadErr := reload.CombinedOutput()
		inWindow := window()
		time.Sleep(500 * time.Millisecond)
		r := w.stop(t)
		st, err := prefork.Control(ctl, prefork.ControlStatus)
		if err != nil {
			t.Fatal(err)
		}
		d := st.LastCanary
		if d == nil {
			t.Fatalf("%s: no canary decision in the status; reload --wait: %v\n%s", tc.build, reloadErr, out)
		}
		failed := r.non2xx + r.socketErrors
		t.Logf("%s: %s (%s) %s; wrk: %d requests, %d non-2xx, %d socket errors; %d requests through nginx in the window",
			tc.build, d.Decision, d.Reason, d.Detail, r.requests, r.non2xx, r.socketErrors, inWindow)
		if r.requests == 0 || inWindow == 0 {
			t.Fatalf("%s: wrk sent %d requests, %d in the window: no load", tc.build, r.requests, inWindow)
		}
		if tc.rollback == "" {
			if reloadErr != nil || d.Decision != "promote" || st.Generation != d.Generation || d.Generation <= gen {
				t.Fatalf("%s: reload --wait: %v; decided %s (%s) on generation %d, generation %d serves: want a newer one than %d promoted\n%s",
					tc.build, reloadErr, d.Decision, d.Reason, d.Generation, st.Generation, gen, out)
			}
			gen = st.Generation
			if failed != 0 {
				t.Errorf("%s: %d requests failed across a promoted reload, want 0", tc.build, failed)
			}
			continue
		}
		var exit *exec.ExitError
		if !errors.As(reloadErr, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), "rolled back ("+tc.rollback+")") {
			t.Fatalf("%s: reload --wait returned %v, want a non-zero exit for a rollback on %s\n%s", tc.build, reloadErr, tc.rollback, out)
		}
		if d.Decision != "rollback" || d.Reason != tc.rollback || st.Generation != gen {
			t.Fatalf("%s: decided %s (%s), generation %d: want a rollback on %s, generation %d", tc.build, d.Decision, d.Reason, st.Generation, tc.rollback, gen)
		}
		share := float64(d.New.Workers) / float64(max(d.New.Workers+d.Old.Workers, 1))
		if bar := (share + 0.05) * float64(inWindow); float64(failed) > bar {
			t.Errorf("%s: %d requests failed, over the bar of %.0f: the canary's share %.0f%% + 5%% of the window's %d requests", tc.build, failed, bar, 100*share, inWindow)
		}
		assertServesAtFullStrength(t, ctx, deadline, bin, ctl, gen, base+"/work", tc.rollback)
	}
}

// buildWithRoute adds route (a mux.HandleFunc line) to the generated app in
// dir, with the file name holding src in its web package, and builds the
// production entry once: the binary's path.
func buildWithRoute(t *testing.T, ctx context.Context, dir, route, name, src string) string {
	t.Helper()
	appGo := filepath.Join(dir, "web", "app.go")
	app, err := os.ReadFile(appGo)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = `mux.HandleFunc("GET /healthz", healthz)`
	if !strings.Contains(string(app), anchor) {
		t.Fatalf("web/app.go has no %s to add %s after", anchor, route)
	}
	writeFile(t, appGo, strings.Replace(string(app), anchor, anchor+"\n\t"+route, 1))
	writeFile(t, filepath.Join(dir, "web", name), src)
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./wsgi")
	build.Dir, build.Env = dir, testenv.OfflineGoEnv()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startAppOn starts the app bin in dir with env and args until the test
// ends, and waits for its unix socket.
func startAppOn(t *testing.T, deadline time.Time, dir string, env []string, socket, bin string, args ...string) *daemon {
	t.Helper()
	master := startDaemonIn(t, dir, env, bin, args...)
	t.Cleanup(func() { master.stop(30 * time.Second) })
	waitFor(t, "the app's socket", deadline, func() error {
		c, err := net.Dial("unix", socket)
		if err == nil {
			c.Close()
		}
		return err
	})
	return master
}

// assertServesAtFullStrength: after a rollback both workers are the
// serving generation's, NAME status says why, and a short wrk run through
// nginx fails nothing.
func assertServesAtFullStrength(t *testing.T, ctx context.Context, deadline time.Time, bin, ctl string, gen int, url, reason string) {
	t.Helper()
	waitFor(t, "the old generation at full strength", deadline, func() error {
		st, err := prefork.Control(ctl, prefork.ControlStatus)
		if err != nil {
			return err
		}
		ready := 0
		for _, w := range st.Workers {
			if w.Generation == gen && w.State == "ready" {
				ready++
			}
		}
		if ready != 2 || len(st.Workers) != 2 || st.Phase != "serving" {
			return fmt.Errorf("%d of 2 generation-%d workers ready, %d workers, phase %s", ready, gen, len(st.Workers), st.Phase)
		}
		return nil
	})
	out, err := exec.CommandContext(ctx, bin, "status", "--control-socket", ctl).CombinedOutput()
	if err != nil || !regexp.MustCompile(`last canary generation \d+: rollback \(`+reason+`\)`).Match(out) {
		t.Errorf("status after a rollback on %s: %v\n%s", reason, err, out)
	}
	w := startWrk(t, ctx, url)
	time.Sleep(time.Second)
	if r := w.stop(t); r.requests == 0 || r.non2xx+r.socketErrors != 0 {
		t.Errorf("after the rollback on %s: wrk %d requests, %d non-2xx, %d socket errors; want all answered", reason, r.requests, r.non2xx, r.socketErrors)
	}
}

// wrkRun is a wrk run in the background, stopped with SIGINT (wrk then
// prints its report).
type wrkRun struct {
	cmd *exec.Cmd
	out strings.Builder
}

type wrkReport struct{ requests, non2xx, socketErrors int64 }

// startWrk runs wrk on url: 1 thread, 4 connections, bounded at 2 minutes.
func startWrk(t *testing.T, ctx context.Context, url string) *wrkRun {
	t.Helper()
	w := &wrkRun{cmd: exec.CommandContext(ctx, "wrk", "-t1", "-c4", "-d120s", "--timeout", "10s", url)}
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.out
	if err := w.cmd.Start(); err != nil {
		t.Fatalf("wrk: %v", err)
	}
	return w
}

var (
	wrkRequests = regexp.MustCompile(`(\d+) requests in `)
	wrkNon2xx   = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)
	wrkSocket   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// stop ends the run and reads wrk's report.
func (w *wrkRun) stop(t *testing.T) wrkReport {
	t.Helper()
	_ = w.cmd.Process.Signal(syscall.SIGINT)
	if err := w.cmd.Wait(); err != nil {
		t.Fatalf("wrk: %v\n%s", err, w.out.String())
	}
	out := w.out.String()
	var r wrkReport
	m := wrkRequests.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no request count in wrk's report:\n%s", out)
	}
	r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	if m := wrkNon2xx.FindStringSubmatch(out); m != nil {
		r.non2xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			n, _ := strconv.ParseInt(s, 10, 64)
			r.socketErrors += n
		}
	}
	return r
}

// countLines is the number of lines in the file p (0 if unreadable).
func countLines(p string) int64 {
	b, _ := os.ReadFile(p)
	return int64(strings.Count(string(b), "\n"))
}

// watchCanaryWindow follows a reload's canary on the control socket: the
// returned func waits for the decision and gives count's growth from the
// window's opening to it (0 if no window was seen).
func watchCanaryWindow(ctl string, count func() int64) func() int64 {
	done := make(chan int64, 1)
	go func() {
		start, opened := int64(0), false
		for limit := time.Now().Add(time.Minute); time.Now().Before(limit); time.Sleep(10 * time.Millisecond) {
			st, err := prefork.Control(ctl, prefork.ControlStatus)
			switch {
			case err != nil:
			case !opened && st.Canary != nil && !st.Canary.Booting:
				start, opened = count(), true
			case opened && st.Canary == nil:
				done <- count() - start
				return
			}
		}
		done <- 0
	}()
	return func() int64 { return <-done }
}
