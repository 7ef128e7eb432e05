package deploy

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
	"github.com/scaffoldgo/scaffold/templates"
)

// startSite writes the nginx site that deploy-config makes of the project in dir with opts
// (Targets, Listen and nginx's own folders filled in here), runs a real nginx on it on a
// loopback port until the test ends, and returns its base URL.
func startSite(t *testing.T, dir string, opts Options) string {
	t.Helper()
	base, _ := startSiteLogs(t, dir, opts)
	return base
}

// startSiteLogs is startSite that also returns the site's access log.
func startSiteLogs(t *testing.T, dir string, opts Options) (base, accessLog string) {
	t.Helper()
	testenv.Tool(t, "nginx")
	tmp := t.TempDir()
	for _, d := range []string{"log", "tmp", "sites"} {
		if err := os.MkdirAll(filepath.Join(tmp, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	port := testenv.FreePort(t)
	opts.Targets, opts.Listen = []string{"nginx"}, "127.0.0.1:"+strconv.Itoa(port)
	opts.NginxLogDir, opts.ACMERoot = filepath.Join(tmp, "log"), filepath.Join(tmp, "acme")
	gen, err := Generate(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	site, _ := gen.Files.Get("nginx/" + gen.Data.Name + ".conf")
	writeFile(t, filepath.Join(tmp, "sites", "site.conf"), string(site.Data))
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
	return "http://127.0.0.1:" + strconv.Itoa(port), gen.Data.NginxAccessLog
}

// TestNginxCachesFingerprintedStatic: the nginx site serves a fingerprinted static URL (as
// the app's pages write it) from the file without the fingerprint, immutable for a year,
// and any other static URL for a minute, with the security headers on both; under
// app.root_path too. The app sends the same (web/layout's tests, in the generated project).
func TestNginxCachesFingerprintedStatic(t *testing.T) {
	forEachRoot(t, []string{"", "/shop"}, func(t *testing.T, dir, root string) {
		static := filepath.Join(dir, "web", "static")
		base := startSite(t, dir, Options{Socket: filepath.Join(t.TempDir(), "demo.sock"), StaticDir: static})
		css, err := os.ReadFile(filepath.Join(static, "css", "style.css"))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(css)
		hash := hex.EncodeToString(sum[:])[:templates.Static.HashLen]
		tests := []struct {
			path   string
			status int
			cache  string
		}{
			{"/static/css/style." + hash + ".css", 200, templates.Static.Immutable},
			{"/static/favicon." + hash + ".svg", 200, templates.Static.Immutable}, // nginx does not check the fingerprint
			{"/static/css/style.css", 200, templates.Static.Brief},
			{"/static/errors/50x.html", 200, templates.Static.Brief},
			{"/static/css/nope." + hash + ".css", 404, ""},
			{"/static/.hidden." + hash + ".css", 403, ""},
			{"/static/css/style.0123456789.css", 404, ""}, // too short: an ordinary name
		}
		if root == "" {
			tests = append(tests, struct {
				path   string
				status int
				cache  string
			}{"/favicon.ico", 200, templates.Static.Brief})
		}
		for _, tt := range tests {
			resp, err := http.Get(base + root + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Errorf("GET %s = %d, want %d", root+tt.path, resp.StatusCode, tt.status)
				continue
			}
			if tt.status != 200 {
				continue
			}
			if cc := resp.Header.Get("Cache-Control"); cc != tt.cache {
				t.Errorf("GET %s: Cache-Control %q, want %q", root+tt.path, cc, tt.cache)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" || resp.Header.Get("Referrer-Policy") == "" {
				t.Errorf("GET %s: the security headers are missing: %v", root+tt.path, resp.Header)
			}
			if strings.HasSuffix(tt.path, ".css") && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
				t.Errorf("GET %s: Content-Type %q, want text/css", root+tt.path, resp.Header.Get("Content-Type"))
			}
		}
	})
}
