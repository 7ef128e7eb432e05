package deploy

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// site is one generated app of TestTwoAppsBehindOneNginx.
type site struct {
	name, host, root string // root: the app's app.root_path, "" for /
	dir, socket      string
	master           *daemon
	nginx            []byte // its generated nginx site
	defaultServer    []byte
}

// TestTwoAppsBehindOneNginx puts two generated projects behind one real nginx on one
// port, each with its own generated site and the one default-server.conf: shop.test
// routed to the first at /, blog.test to the second mounted under /blog (nginx passes
// the path, the app's app.root_path serves it). Both answer only their own host and
// path, and a HUP of either master under load on both fails no request.
func TestTwoAppsBehindOneNginx(t *testing.T) {
	ctx, deadline := endToEnd(t, "builds two projects and starts them behind nginx", 3*time.Minute, "nginx", "go")
	tmp := t.TempDir()
	openUp(t, tmp) // nginx's workers (nobody when not root) reach the sockets and static files
	port := testenv.FreePort(t)
	listen := "127.0.0.1:" + strconv.Itoa(port)

	sites := []*site{{name: "shop", host: "shop.test"}, {name: "blog", host: "blog.test", root: "/blog"}}
	for _, s := range sites {
		s.dir = newProject(t, s.name)
		openUp(t, s.dir)
		if s.root != "" {
			cfg := filepath.Join(s.dir, "config", "config.yaml")
			data, err := os.ReadFile(cfg)
			if err != nil {
				t.Fatal(err)
			}
			edited := strings.Replace(string(data), `root_path: ""`, "root_path: "+s.root, 1)
			if edited == string(data) {
				t.Fatal("config.yaml has no root_path to set")
			}
			writeFile(t, cfg, edited)
		}
		bin := filepath.Join(tmp, s.name)
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./wsgi")
		build.Dir, build.Env = s.dir, testenv.OfflineGoEnv()
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", s.name, err, out)
		}
		s.socket = filepath.Join(tmp, s.name+".sock")
		gen, err := Generate(s.dir, Options{
			Targets: []string{"nginx"}, Domains: []string{s.host}, Listen: listen, Socket: s.socket,
			StaticDir: filepath.Join(s.dir, "web", "static"), NginxLogDir: tmp, ACMERoot: filepath.Join(tmp, "acme"),
		})
		if err != nil {
			t.Fatal(err)
		}
		f, _ := gen.Files.Get("nginx/" + s.name + ".conf")
		d, ok := gen.Files.Get(DefaultServerFile)
		if !ok {
			t.Fatalf("%s: no %s", s.name, DefaultServerFile)
		}
		s.nginx, s.defaultServer = f.Data, d.Data
		// The production entry from the source tree, as `make serve` runs it, on the socket
		// nginx's upstream names.
		// no canary: the HUPs below check the rolling reload (TestCanaryReloadBehindNginxUnderWrk the canary)
		env := append(os.Environ(), "APP_ENV=production", "APP_APP_STATIC_DIR=web/static", "APP_SERVER_CONTROL_SOCKET=", "APP_SERVER_CANARY_WINDOW=0")
		s.master = startDaemonIn(t, s.dir, env, bin, "-c", "config", "-b", "unix:"+s.socket, "-w", "2")
		t.Cleanup(func() { s.master.stop(30 * time.Second) })
	}
	if string(sites[0].defaultServer) != string(sites[1].defaultServer) {
		t.Fatalf("the two apps' %s differ", DefaultServerFile)
	}

	nginxDir := filepath.Join(tmp, "nginx")
	for _, s := range sites {
		writeFile(t, filepath.Join(nginxDir, "sites", s.name+".conf"), string(s.nginx))
	}
	writeFile(t, filepath.Join(nginxDir, "sites", "default-server.conf"), string(sites[0].defaultServer))
	if err := os.MkdirAll(filepath.Join(nginxDir, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	nginxConf := filepath.Join(nginxDir, "nginx.conf")
	writeFile(t, nginxConf, string(NginxWrapper(nginxDir, filepath.Join(nginxDir, "sites", "*.conf"))))
	nginx := startDaemon(t, "nginx", "-p", nginxDir, "-e", "stderr", "-c", nginxConf, "-g", "daemon off;")
	t.Cleanup(func() { nginx.stop(10 * time.Second) })

	client := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(host, path string) (int, string, error) {
		req, err := http.NewRequestWithContext(ctx, "GET", "http://"+listen+path, nil)
		if err != nil {
			return 0, "", err
		}
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), err
	}
	page := func(s *site) error {
		status, body, err := get(s.host, s.root+"/")
		if err == nil && (status != 200 || !strings.Contains(body, "<title>"+s.name+"</title>")) {
			err = fmt.Errorf("%s%s/: status %d", s.host, s.root, status)
		}
		return err
	}
	for _, s := range sites {
		waitFor(t, s.name+" through nginx", deadline, func() error { return page(s) })
	}

	// Each host reaches its own app, and the mounted one writes its links under /blog.
	expect := func(host, path string, want int, bodyHas string) {
		t.Helper()
		status, body, err := get(host, path)
		if err != nil || status != want || !strings.Contains(body, bodyHas) {
			t.Errorf("GET %s%s = %d (%v), want %d with %q", host, path, status, err, want, bodyHas)
		}
	}
	expect("shop.test", "/api/hello?name=x", 200, `"app":"shop"`)
	expect("blog.test", "/blog/api/hello?name=x", 200, `"app":"blog"`)
	expect("blog.test", "/blog/", 200, `href="/blog/static/css/style.`)
	expect("blog.test", "/blog/static/css/style.css", 200, "font-family")
	expect("blog.test", "/blog", 301, "")
	expect("blog.test", "/", 404, "")
	expect("blog.test", "/api/hello", 404, "")
	expect("blog.test", "/blog/api/nope", 404, `"status":404`)
	// Any other name is refused by the one default server (444: connection closed).
	if status, _, err := get("evil.test", "/"); err == nil {
		t.Errorf("an unknown host answered %d", status)
	}

	// A HUP of either app under load on both: no request fails, on either.
	for _, reloaded := range sites {
		var stops []func() (int64, int64, error)
		for _, s := range sites {
			stops = append(stops, startLoad(2, 3000, func() error { return page(s) }))
		}
		master := reloaded.master.cmd.Process.Pid
		before := childrenOf(master)
		if len(before) == 0 {
			t.Fatalf("%s: master %d has no workers", reloaded.name, master)
		}
		time.Sleep(200 * time.Millisecond) // requests in flight before the signal
		if err := syscall.Kill(master, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitReplaced(t, deadline, master, before)
		for i, stop := range stops {
			ok, failed, first := stop()
			t.Logf("HUP of %s: %s answered %d requests, %d failed", reloaded.name, sites[i].name, ok, failed)
			if failed > 0 || ok == 0 {
				t.Errorf("HUP of %s: %d of %d requests to %s failed (first: %v)", reloaded.name, failed, ok+failed, sites[i].name, first)
			}
		}
	}
	for _, s := range sites {
		if c, err := net.Dial("unix", s.socket); err == nil {
			c.Close()
		} else {
			t.Errorf("%s: socket gone after the reloads: %v", s.name, err)
		}
	}
}
