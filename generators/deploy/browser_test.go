package deploy

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/browsertest"
)

// TestNginxErrorPageInABrowser puts a real nginx with the generated site in front of an app
// that is not running (nothing listens on its socket) and checks what a visitor then sees:
// the project's 502 page (web/static/errors/50x.html) in the look of its other pages,
// screenshotted in headless Chromium on a desktop and a phone, light and dark; Lighthouse
// scores it at least 95 for accessibility and best practices, with no console error but
// the 502 itself and no request leaving the host; nginx alone still answers /favicon.ico.
func TestNginxErrorPageInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx, Chromium and Lighthouse; skipped with -short")
	}
	browser := browsertest.New(t)
	tmp := t.TempDir()
	dir := newProject(t, "demo")
	base := startSite(t, dir, Options{
		Socket:    filepath.Join(tmp, "demo.sock"), // the app is stopped: nothing listens here
		StaticDir: filepath.Join(dir, "web", "static"),
	})

	for path, want := range map[string]struct {
		status              int
		contentType, inBody string
	}{
		"/":            {502, "text/html", "Back in a moment"},
		"/blog/post/3": {502, "text/html", "<title>demo: temporarily unavailable</title>"},
		"/favicon.ico": {200, "image/", ""},
	} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), want.contentType) || !strings.Contains(string(body), want.inBody) {
			t.Errorf("GET %s with the app down = %d %q, want %d %s with %q:\n%.300s", path, resp.StatusCode, resp.Header.Get("Content-Type"), want.status, want.contentType, want.inBody, body)
		}
	}

	url := base + "/orders/"
	shots := t.TempDir()
	for _, s := range []browsertest.Shot{
		{Name: "nginx-502", Width: 1280, Height: 900},
		{Name: "nginx-502-phone", Width: 390, Height: 844},
		{Name: "nginx-502-dark", Width: 1280, Height: 900, Dark: true},
	} {
		file := browser.Screenshot(t, url, shots, s)
		t.Logf("screenshot: %s", file)
		browsertest.CheckScheme(t, file, s)
	}
	browser.CheckPage(t, base, url)
	browser.CheckRequests(t)
}
