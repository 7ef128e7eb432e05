package deploy

import (
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/browsertest"
	"github.com/scaffoldgo/scaffold/internal/testenv"
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
	testenv.Tool(t, "nginx")
	browser := browsertest.New(t)
	tmp := t.TempDir()
	for _, d := range []string{"log", "tmp", "run"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := newProject(t, "demo")
	port := testenv.FreePort(t)
	gen, err := Generate(dir, Options{
		Targets: []string{"nginx"}, Listen: "127.0.0.1:" + strconv.Itoa(port),
		Socket:      filepath.Join(tmp, "run", "demo.sock"), // the app is stopped: nothing listens here
		StaticDir:   filepath.Join(dir, "web", "static"),
		NginxLogDir: filepath.Join(tmp, "log"), ACMERoot: filepath.Join(tmp, "acme"),
	})
	if err != nil {
		t.Fatal(err)
	}
	site, _ := gen.Files.Get("nginx/demo.conf")
	writeFile(t, filepath.Join(tmp, "sites", "demo.conf"), string(site.Data))
	writeFile(t, filepath.Join(tmp, "nginx.conf"), string(NginxWrapper(tmp, filepath.Join(tmp, "sites", "*.conf"))))
	nginx := startDaemon(t, "nginx", "-p", tmp, "-e", "stderr", "-c", filepath.Join(tmp, "nginx.conf"), "-g", "daemon off;")
	t.Cleanup(func() { nginx.stop(10 * time.Second) })
	waitFor(t, "nginx", time.Now().Add(30*time.Second), func() error {
		c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err == nil {
			c.Close()
		}
		return err
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)

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
		t.Logf("screenshot: %s", browser.Screenshot(t, url, shots, s))
	}
	browser.CheckPage(t, base, url)
	browser.CheckRequests(t)
}
