package deploy

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNginxAnswersForTheStoppedApp puts a real nginx with the generated site in front of an
// app that is not running and checks nginx's own answers: under the JSON API
// (root_path + /api/) a 502 in RFC 9457 application/problem+json, as the app answers its
// own errors there; elsewhere the project's HTML page; over proxy_pass, uwsgi_pass and
// fastcgi_pass. Then, with something listening on the app's socket, the app's own 5xx
// pass through as it wrote them. At the root and under app.root_path /blog.
func TestNginxAnswersForTheStoppedApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts nginx")
	}
	forEachRoot(t, []string{"", "/blog"}, func(t *testing.T, dir, root string) {
		socket := filepath.Join(t.TempDir(), "demo.sock") // nothing listens here yet
		static := filepath.Join(dir, "web", "static")
		base := startSite(t, dir, Options{Socket: socket, StaticDir: static})

		problem := func(base, method, path string) {
			t.Helper()
			resp, body := do(t, method, base+path, "")
			if resp.StatusCode != 502 || resp.Header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("%s %s with the app down = %d %q, want 502 application/problem+json:\n%.300s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			var p map[string]any
			if err := json.Unmarshal([]byte(body), &p); err != nil {
				t.Fatalf("%s %s: the problem is not JSON: %v\n%s", method, path, err, body)
			}
			if p["type"] != "about:blank" || p["title"] != "Bad Gateway" || p["status"] != float64(502) || !strings.Contains(fmt.Sprint(p["detail"]), "demo is restarting") {
				t.Errorf("%s %s: problem %v, want about:blank, Bad Gateway, 502 and a detail naming demo", method, path, p)
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s: the security headers are missing: %v", method, path, resp.Header)
			}
		}
		page := func(base, path string) {
			t.Helper()
			resp, body := do(t, "GET", base+path, "")
			if resp.StatusCode != 502 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "Back in a moment") {
				t.Errorf("GET %s with the app down = %d %q, want 502 and the HTML page:\n%.300s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		}
		for _, p := range []string{"/api/x", "/api/notes/3?q=1", "/api"} {
			problem(base, "GET", root+p)
		}
		problem(base, "POST", root+"/api/notes")
		for _, p := range []string{"/", "/apix", "/orders/api/x"} {
			page(base, root+p)
		}
		if root != "" {
			// Outside root_path nothing is proxied, the API's path included.
			if resp, _ := do(t, "GET", base+"/api/x", ""); resp.StatusCode != 404 {
				t.Errorf("GET /api/x outside %s = %d, want 404", root, resp.StatusCode)
			}
		}
		// The same when nginx reaches the app over uwsgi_pass or fastcgi_pass.
		for _, protocol := range []string{"uwsgi", "fastcgi"} {
			other := startSite(t, dir, Options{Socket: socket, StaticDir: static, Protocol: protocol})
			problem(other, "GET", root+"/api/x")
			page(other, root+"/")
		}

		// The app's own errors are its own: a 503 problem and a 502 page it writes pass
		// through nginx untouched.
		ln, err := net.Listen("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/api/") {
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(503)
				fmt.Fprint(w, `{"type":"about:blank","title":"Service Unavailable","status":503,"detail":"from the app"}`)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprint(w, "<p>the app's own 502</p>")
		})}
		go app.Serve(ln)
		t.Cleanup(func() { app.Close() })
		if resp, body := do(t, "GET", base+root+"/api/x", ""); resp.StatusCode != 503 || !strings.Contains(body, "from the app") {
			t.Errorf("the app's own 503 under the API came out as %d:\n%.300s", resp.StatusCode, body)
		}
		if resp, body := do(t, "GET", base+root+"/", ""); resp.StatusCode != 502 || !strings.Contains(body, "the app's own 502") {
			t.Errorf("the app's own 502 page came out as %d:\n%.300s", resp.StatusCode, body)
		}
	})
}

// do sends method to url with body ("" for none) and returns the answer and its body.
func do(t *testing.T, method, url, body string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp, string(b)
}

// forEachRoot runs test in a subtest per app.root_path of roots ("": at the root), each
// on a new project "demo" whose config/ has that root_path.
func forEachRoot(t *testing.T, roots []string, test func(t *testing.T, dir, root string)) {
	for _, root := range roots {
		name := "at the root"
		if root != "" {
			name = "under " + root
		}
		t.Run(name, func(t *testing.T) {
			dir := newProject(t, "demo")
			setRootPath(t, dir, root)
			test(t, dir, root)
		})
	}
}

// setRootPath sets app.root_path in the project's config/config.yaml ("" leaves it).
func setRootPath(t *testing.T, dir, root string) {
	t.Helper()
	if root == "" {
		return
	}
	conf := filepath.Join(dir, "config", "config.yaml")
	data, err := os.ReadFile(conf)
	if err != nil || !strings.Contains(string(data), `root_path: ""`) {
		t.Fatalf("config.yaml: %v, or no root_path line to change", err)
	}
	writeFile(t, conf, strings.Replace(string(data), `root_path: ""`, "root_path: "+root, 1))
}
