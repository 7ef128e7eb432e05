package project

import (
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/browsertest"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestPagesInABrowser serves a generated project with a module, as `make serve` does (the
// production entry, from the project's folder), and checks its pages in headless Chromium:
// the home page, the module's page and the 404 page, on a desktop and a phone, light and
// dark. Lighthouse scores each at least 95 for accessibility and best practices; no console
// error (but a 404's own status), no request leaving the host, the favicon found. nginx's
// 502 page is checked the same way in generators/deploy (TestNginxErrorPageInABrowser).
func TestPagesInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project and runs Chromium and Lighthouse; skipped with -short")
	}
	browser := browsertest.New(t)
	dir := generateInto(t, Options{Name: "demo", Modules: []state.Module{{Name: "blog", API: true, Page: true}}})
	bin := filepath.Join(t.TempDir(), "demo")
	goCmd(t, dir, "build", "-o", bin, "./wsgi")
	addr, metrics := testenv.FreeAddr(t), testenv.FreeAddr(t)
	t.Setenv("APP_ENV", "production")
	t.Setenv("APP_SOURCE_TREE", "1") // as make serve
	t.Setenv("APP_SERVER_METRICS_BIND", metrics)
	t.Setenv("APP_SERVER_CONTROL_SOCKET", "") // no bin/demo.ctl in the test's copy
	_, done := startServer(t, dir, bin, "-b", addr, "-w", "1")
	base := "http://" + addr
	waitOK(t, base+"/healthz", done)

	// The home page links its health check, its API and the master's metrics, and each answers.
	home := get(t, base+"/", 200)
	for _, path := range []string{"/healthz", "/api/hello?name=you", "http://" + metrics + "/metrics"} {
		if !strings.Contains(home, `href="`+path+`"`) {
			t.Errorf("the home page does not link %s", path)
		}
		url := path
		if strings.HasPrefix(path, "/") {
			url = base + path
		}
		get(t, url, 200)
	}

	shots := t.TempDir()
	pages := []struct {
		name, path string
		status     int
		heading    string
	}{
		{"home", "/", 200, "demo is up and running"},
		{"module", "/blog/", 200, "Blog"},
		{"404", "/no/such/page", 404, "Page not found"},
	}
	for _, p := range pages {
		t.Run(p.name, func(t *testing.T) {
			url := base + p.path
			body := get(t, url, p.status)
			checkLayout(t, base, body)
			if !strings.Contains(body, p.heading) {
				t.Errorf("%s lacks %q", p.path, p.heading)
			}
			for _, s := range []browsertest.Shot{
				{Name: p.name, Width: 1280, Height: 900},
				{Name: p.name + "-phone", Width: 390, Height: 844},
				{Name: p.name + "-dark", Width: 1280, Height: 900, Dark: true},
			} {
				file := browser.Screenshot(t, url, shots, s)
				t.Logf("screenshot: %s", file)
				browsertest.CheckScheme(t, file, s)
			}
			browser.CheckPage(t, base, url)
		})
	}
	browser.CheckRequests(t)
	browser.CheckIcons(t)
}

// get fetches url, wanting status; it returns the body.
func get(t *testing.T, url string, status int) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Errorf("GET %s = %d, want %d:\n%.300s", url, resp.StatusCode, status, body)
	}
	return string(body)
}

// assetURL is a fingerprinted static URL in a page.
var assetURL = regexp.MustCompile(`(?:href|src)="(/static/[^"]+\.[0-9a-f]{12}\.(?:css|svg))"`)

// checkLayout checks a page is in the shared layout: the navigation lists the module, and
// the stylesheet and the icon are fingerprinted URLs that answer 200, cached for a year.
func checkLayout(t *testing.T, base, body string) {
	t.Helper()
	for _, want := range []string{`<a href="/">Home</a>`, `<a href="/blog/">Blog</a>`, `<footer class="site-footer">`, `<meta name="viewport"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	urls := assetURL.FindAllStringSubmatch(body, -1)
	if len(urls) < 2 {
		t.Errorf("%d fingerprinted static URLs in the page, want the stylesheet and the icon", len(urls))
	}
	for _, u := range urls {
		resp, err := http.Get(base + u[1])
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if cc := resp.Header.Get("Cache-Control"); resp.StatusCode != 200 || !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s = %d, Cache-Control %q; want 200, immutable", u[1], resp.StatusCode, cc)
		}
	}
}
