// Package browsertest checks pages in a real browser: headless Chromium takes screenshots
// and Lighthouse (npm) scores accessibility and best practices, while every request either
// of them makes goes through a recording proxy that lets only loopback through. So a test
// sees each request a page caused (its favicon too) and fails on any that would leave the
// host: an external font, a CDN, a tracker. Chromium's own background calls to Google
// (component updates, network time, account checks: no flag stops them all) carry no
// Referer and are refused too, and listed apart; Lighthouse's record of the page's
// requests, HTTPS ones included, covers what a Referer cannot show.
//
// It is for tests only: it imports "testing", and non-test code must not import it.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// ShotsDir is the environment variable naming a folder that keeps a copy of every
// screenshot (they are in the test's temporary folder otherwise, gone when it ends).
const ShotsDir = "SCAFFOLD_SCREENSHOT_DIR"

// LighthouseVersion is the Lighthouse that .ci/run installs (npm), the newest that runs on
// Debian's Node 20.
const LighthouseVersion = "12.8.2"

// chromeFlags keep headless Chromium on this host: no sync, update or other background
// traffic to Google, and a fresh profile per run.
var chromeFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-default-apps", "--disable-extensions", "--metrics-recording-only", "--no-default-browser-check",
	"--hide-scrollbars",
}

// Browser drives Chromium and Lighthouse through one recording proxy.
type Browser struct {
	chromium   string
	lighthouse string
	proxy      *proxy
}

// New finds Chromium and Lighthouse (skipping the test without them, failing under
// SCAFFOLD_REQUIRE_TOOLS=1) and starts the proxy, stopped when the test ends.
func New(t testing.TB) *Browser {
	t.Helper()
	chromium := testenv.Tool(t, "chromium", "apt-get install chromium (Debian's package)")
	lighthouse := testenv.Tool(t, "lighthouse", "npm install --prefix /opt/lighthouse lighthouse@"+LighthouseVersion+" and link node_modules/.bin/lighthouse onto PATH, as .ci/run does")
	p := &proxy{}
	p.server = httptest.NewServer(p)
	t.Cleanup(p.server.Close)
	return &Browser{chromium: chromium, lighthouse: lighthouse, proxy: p}
}

// flags are chromeFlags with the proxy (loopback too goes through it: <-loopback) and a new
// empty profile.
func (b *Browser) flags(t testing.TB) []string {
	profile, err := os.MkdirTemp("", "browsertest-profile-*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	return append(slices.Clone(chromeFlags),
		"--proxy-server=http://"+b.proxy.server.Listener.Addr().String(), "--proxy-bypass-list=<-loopback>",
		"--user-data-dir="+profile)
}

// Shot is one screenshot: the viewport's size, and the system's colour scheme.
type Shot struct {
	Name          string // file name without .png
	Width, Height int
	Dark          bool // prefers-color-scheme: dark
}

// Screenshot loads url in Chromium and writes its viewport as a PNG into dir (and into
// $SCAFFOLD_SCREENSHOT_DIR when set), returning the file's path.
func (b *Browser) Screenshot(t testing.TB, url, dir string, s Shot) string {
	t.Helper()
	file := filepath.Join(dir, s.Name+".png")
	args := append(b.flags(t), fmt.Sprintf("--window-size=%d,%d", s.Width, s.Height), "--screenshot="+file)
	if s.Dark {
		args = append(args, "--force-dark-mode")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, b.chromium, append(args, url)...).CombinedOutput()
	if fi, serr := os.Stat(file); err != nil || serr != nil || fi.Size() == 0 {
		t.Fatalf("chromium --screenshot %s: %v %v\n%s", url, err, serr, out)
	}
	if keep := os.Getenv(ShotsDir); keep != "" {
		if data, err := os.ReadFile(file); err == nil && os.MkdirAll(keep, 0o755) == nil {
			if err := os.WriteFile(filepath.Join(keep, s.Name+".png"), data, 0o644); err != nil {
				t.Logf("keeping the screenshot: %v", err)
			}
		}
	}
	return file
}

// Luminance is the relative luminance (0 black to 1 white) of the pixel at x, y of the PNG
// file, such as a screenshot's page background: light and dark colour schemes tell apart.
func Luminance(t testing.TB, file string, x, y int) float64 {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	r, g, bl, _ := img.At(x, y).RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(bl)) / 0xffff
}

// CheckScheme fails t unless the screenshot file of s has a light page background, or a
// dark one when s asked for the dark colour scheme: the page follows the system setting.
// The background is sampled at the left edge, halfway down, beside any content.
func CheckScheme(t testing.TB, file string, s Shot) {
	t.Helper()
	l := Luminance(t, file, 2, s.Height/2)
	if s.Dark && l >= 0.2 {
		t.Errorf("%s: background luminance %.2f in the dark scheme, want below 0.2", s.Name, l)
	}
	if !s.Dark && l <= 0.8 {
		t.Errorf("%s: background luminance %.2f in the light scheme, want above 0.8", s.Name, l)
	}
}

// Report is what a Lighthouse run found.
type Report struct {
	URL           string
	Scores        map[string]float64 // by category id: accessibility, best-practices (0 to 1)
	Failed        []string           // audits below a full score: "id: title"
	ConsoleErrors []ConsoleError     // the browser's console errors, as errors-in-console lists them
	Requests      []Request          // the page's requests as Lighthouse recorded them (Status 0: failed)
}

// ConsoleError is one entry of the browser's console.
type ConsoleError struct {
	Source      string `json:"source"`
	Description string `json:"description"`
	URL         string
}

// Lighthouse runs Lighthouse's accessibility and best-practices categories on url. An
// error page is scored too (--ignore-status-code): its own status is the one console
// error it may have, which a caller can leave out with WithoutStatusOf.
func (b *Browser) Lighthouse(t testing.TB, url string) Report {
	t.Helper()
	out := filepath.Join(t.TempDir(), "lighthouse.json")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, b.lighthouse, url,
		// the two categories, and the record of the page's requests beside them
		"--only-categories=accessibility,best-practices", "--only-audits=network-requests", "--ignore-status-code",
		"--output=json", "--output-path="+out, "--quiet",
		"--chrome-flags="+strings.Join(b.flags(t), " "))
	cmd.Env = append(os.Environ(), "CHROME_PATH="+b.chromium)
	if log, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("lighthouse %s: %v\n%s", url, err, log)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	r, err := parseReport(data)
	if err != nil {
		t.Fatalf("lighthouse %s: %v", url, err)
	}
	r.URL = url
	return r
}

// parseReport reads the parts of Lighthouse's JSON a test asserts.
func parseReport(data []byte) (Report, error) {
	var raw struct {
		RuntimeError *struct{ Code, Message string } `json:"runtimeError"`
		Categories   map[string]struct {
			Score *float64 `json:"score"`
		} `json:"categories"`
		Audits map[string]struct {
			Title   string   `json:"title"`
			Score   *float64 `json:"score"`
			Mode    string   `json:"scoreDisplayMode"`
			Details struct {
				Items []json.RawMessage `json:"items"`
			} `json:"details"`
		} `json:"audits"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return Report{}, err
	}
	if raw.RuntimeError != nil && raw.RuntimeError.Code != "" {
		return Report{}, fmt.Errorf("%s: %s", raw.RuntimeError.Code, raw.RuntimeError.Message)
	}
	r := Report{Scores: map[string]float64{}}
	for id, c := range raw.Categories {
		if c.Score == nil {
			return Report{}, fmt.Errorf("category %s has no score", id)
		}
		r.Scores[id] = *c.Score
	}
	for id, a := range raw.Audits {
		if a.Score != nil && *a.Score < 1 && (a.Mode == "binary" || a.Mode == "numeric") {
			r.Failed = append(r.Failed, id+": "+a.Title)
		}
	}
	slices.Sort(r.Failed)
	for _, item := range raw.Audits["errors-in-console"].Details.Items {
		var e struct {
			ConsoleError
			Location struct {
				URL string `json:"url"`
			} `json:"sourceLocation"`
		}
		if err := json.Unmarshal(item, &e); err != nil {
			return Report{}, err
		}
		e.ConsoleError.URL = e.Location.URL
		r.ConsoleErrors = append(r.ConsoleErrors, e.ConsoleError)
	}
	for _, item := range raw.Audits["network-requests"].Details.Items {
		var req struct {
			URL    string  `json:"url"`
			Status float64 `json:"statusCode"`
		}
		if err := json.Unmarshal(item, &req); err != nil {
			return Report{}, err
		}
		r.Requests = append(r.Requests, Request{URL: req.URL, Status: int(req.Status)})
	}
	return r, nil
}

// WithoutStatusOf returns the console errors other than the one Chromium logs for an error
// page's own status ("Failed to load resource: the server responded with a status of
// 404"), which every 404 or 502 page has: the page is meant to carry that status.
func (r Report) WithoutStatusOf(url string) []ConsoleError {
	var out []ConsoleError
	for _, e := range r.ConsoleErrors {
		if e.Source == "network" && e.URL == url && strings.Contains(e.Description, "the server responded with a status of") {
			continue
		}
		out = append(out, e)
	}
	return out
}

// MinScore is the least Lighthouse score a page may have in each category.
const MinScore = 0.95

// CheckPage runs Lighthouse on url, a page under base (scheme://host:port), and fails t
// unless: accessibility and best practices score at least MinScore; the console has no
// error but the page's own status; every request of the page stays on base's host and,
// the page itself aside, answers 200.
func (b *Browser) CheckPage(t testing.TB, base, url string) Report {
	t.Helper()
	r := b.Lighthouse(t, url)
	t.Logf("Lighthouse %s: %v; below a full score: %v", url, r.Scores, r.Failed)
	for _, c := range []string{"accessibility", "best-practices"} {
		if s, ok := r.Scores[c]; !ok || s < MinScore {
			t.Errorf("Lighthouse %s on %s: %.2f, want at least %.2f (audits below a full score: %v)", c, url, s, MinScore, r.Failed)
		}
	}
	if errs := r.WithoutStatusOf(url); len(errs) > 0 {
		t.Errorf("console errors on %s: %+v", url, errs)
	}
	if len(r.Requests) == 0 {
		t.Errorf("Lighthouse recorded no request of %s", url)
	}
	for _, req := range r.Requests {
		if !strings.HasPrefix(req.URL, base+"/") {
			t.Errorf("%s: a request leaves the page's host: %d %s", url, req.Status, req.URL)
		} else if req.Status != http.StatusOK && req.URL != url {
			t.Errorf("%s: a request of the page failed: %d %s", url, req.Status, req.URL)
		}
	}
	return r
}

// CheckRequests fails t for any request a page caused that would have left the host (the
// proxy refused it, so none did).
func (b *Browser) CheckRequests(t testing.TB) {
	t.Helper()
	reqs := b.Requests()
	if len(reqs) == 0 {
		t.Fatal("no request went through the browser's proxy: the check would see nothing")
	}
	page, background := b.Offsite()
	for _, r := range page {
		t.Errorf("a request of a page would have left the host: %s %s (from %s)", r.Method, r.URL, r.Referer)
	}
	t.Logf("%d background calls of Chromium itself refused by the proxy", len(background))
}

// CheckIcons fails t unless the browser asked for an icon (a page's rel="icon" or
// /favicon.ico) and every such request answered 200.
func (b *Browser) CheckIcons(t testing.TB) {
	t.Helper()
	icons := 0
	for _, r := range b.Requests() {
		if r.Status != 0 && strings.Contains(r.URL, "favicon") {
			icons++
			if r.Status != http.StatusOK {
				t.Errorf("the browser's %s %s = %d, want 200", r.Method, r.URL, r.Status)
			}
		}
	}
	if icons == 0 {
		t.Error("the browser asked for no icon: nothing shows the favicon is found")
	}
}

// Request is one request the browser made.
type Request struct {
	Method, URL string
	Referer     string // the page that caused it; "" for a navigation or the browser's own call
	Status      int    // the answer passed back; 0 for a request refused for leaving the host
}

// Requests returns every request made through the proxy so far, in order.
func (b *Browser) Requests() []Request {
	b.proxy.mu.Lock()
	defer b.proxy.mu.Unlock()
	return slices.Clone(b.proxy.requests)
}

// Offsite returns the requests a page caused that would have left the host (the proxy
// refused them), and apart from them the browser's own background calls, refused too.
func (b *Browser) Offsite() (page, background []Request) {
	for _, r := range b.Requests() {
		switch {
		case r.Status != 0:
		case r.Referer != "":
			page = append(page, r)
		default:
			background = append(background, r)
		}
	}
	return page, background
}

// proxy is an HTTP forward proxy that passes loopback requests on and refuses, and
// records, all others; CONNECT (HTTPS) is refused too, as nothing here speaks TLS.
type proxy struct {
	server    *httptest.Server
	transport http.Transport

	mu       sync.Mutex
	requests []Request
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, URL: r.URL.String(), Referer: r.Header.Get("Referer")}
	if r.Method == http.MethodConnect {
		rec.URL = "https://" + r.Host
	}
	if r.Method == http.MethodConnect || !r.URL.IsAbs() || !isLoopback(r.URL.Hostname()) {
		p.record(rec)
		http.Error(w, "browsertest: request leaves the host", http.StatusForbidden)
		return
	}
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		rec.Status = http.StatusBadGateway
		p.record(rec)
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	rec.Status = resp.StatusCode
	p.record(rec)
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = io.Copy(w, resp.Body)
}

func (p *proxy) record(r Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.requests = append(p.requests, r)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
