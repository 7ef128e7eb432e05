package deploy

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// testRoutes go into a generated project for the container and cluster tests: /slow
// answers its headers at once and its body after ?ms=, and TEST_BOOT_DELAY (a duration)
// slows the App factory down, as an app that connects to its database at boot.
const testRoutes = `package web

import (
	"net/http"
	"os"
	"strconv"
	"time"
)

func bootDelay() {
	if d, err := time.ParseDuration(os.Getenv("TEST_BOOT_DELAY")); err == nil {
		time.Sleep(d)
	}
}

func slow(w http.ResponseWriter, r *http.Request) {
	ms, _ := strconv.Atoi(r.URL.Query().Get("ms"))
	w.WriteHeader(http.StatusOK)
	w.(http.Flusher).Flush()
	time.Sleep(time.Duration(ms) * time.Millisecond)
	_, _ = w.Write([]byte("slow done\n"))
}
`

// addTestRoutes writes testRoutes into the project at dir and registers them in web/app.go.
func addTestRoutes(t *testing.T, dir string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "web", "zz_test_routes.go"), testRoutes)
	replace(t, filepath.Join(dir, "web", "app.go"), "\tmux := http.NewServeMux()\n", "\tbootDelay()\n\tmux := http.NewServeMux()\n\tmux.HandleFunc(\"GET /slow\", slow)\n")
}

// podmanConf is the CONTAINERS_CONF=... setting of podman commands: a containers.conf of
// the test's own with ulimits within this machine's hard limits (podman's defaults exceed
// them where root lacks CAP_SYS_RESOURCE), runc and cgroupfs.
func podmanConf(t *testing.T) string {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	nofile := min(lim.Max, 1<<20)
	conf := filepath.Join(t.TempDir(), "containers.conf")
	writeFile(t, conf, fmt.Sprintf(`[containers]
default_ulimits = ["nofile=%d:%d", "nproc=32768:32768"]
cgroups = "enabled"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
`, nofile, nofile))
	return "CONTAINERS_CONF=" + conf
}

// runCmd runs a command with env, failing the test with its output on error.
func runCmd(t *testing.T, ctx context.Context, env []string, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// buildImage writes deploy/container/ for the project at dir and builds it with
// `make image`, as a user would; the image is removed when the test ends.
func buildImage(t *testing.T, ctx context.Context, conf, dir, image, tag string, opts Options) time.Duration {
	t.Helper()
	opts.Targets = append(opts.Targets, "container")
	writeDeploy(t, dir, opts)
	start := time.Now()
	runCmd(t, ctx, testenv.OfflineGoEnv(conf), dir, "make", "image", "IMAGE="+image, "TAG="+tag)
	took := time.Since(start)
	t.Cleanup(func() {
		rmi := exec.Command("podman", "rmi", "-f", image+":"+tag)
		rmi.Env = append(os.Environ(), conf)
		_ = rmi.Run()
	})
	return took
}

// writeDeploy generates the files of opts into the project's deploy/, as deploy-config does.
func writeDeploy(t *testing.T, dir string, opts Options) *Context {
	t.Helper()
	gen, err := Generate(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Locate(dir, "deploy")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := gen.Plan(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dir, out, plan, false); err != nil {
		t.Fatal(err)
	}
	return gen
}

// One image reference: `make image-ref` (which `make image` ends with) points the
// production overlay at $(IMAGE):$(TAG), the tag the version without its v as goreleaser's,
// and kustomize's images entry is what the Deployment then runs.
func TestMakeImageRefPointsTheOverlay(t *testing.T) {
	testenv.Tool(t, "make")
	dir := newProject(t, "demo")
	writeDeploy(t, dir, Options{Targets: []string{"kubernetes", "container"}})
	ctx := context.Background()
	out := runCmd(t, ctx, os.Environ(), dir, "make", "--no-print-directory", "image-ref", "IMAGE=registry.example.com/shop/demo", "TAG=1.2.3")
	if out != "deploy/kubernetes/production/kustomization.yaml runs registry.example.com/shop/demo:1.2.3 (imagePullPolicy IfNotPresent)" {
		t.Errorf("make image-ref printed %q", out)
	}
	var overlay struct {
		Images []struct {
			Name, NewName, NewTag string
		} `json:"images"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "deploy", "kubernetes", "production", "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &overlay); err != nil {
		t.Fatal(err)
	}
	if len(overlay.Images) != 1 || overlay.Images[0].Name != "demo" || overlay.Images[0].NewName != "registry.example.com/shop/demo" || overlay.Images[0].NewTag != "1.2.3" {
		t.Errorf("overlay images %+v, want demo -> registry.example.com/shop/demo:1.2.3\n%s", overlay.Images, data)
	}
	// The default tag is the version as goreleaser writes it: git describe without the v.
	out = runCmd(t, ctx, os.Environ(), dir, "make", "--no-print-directory", "image-ref", "VERSION=v2.0.1")
	if !strings.HasSuffix(out, "runs localhost/demo:2.0.1 (imagePullPolicy IfNotPresent)") {
		t.Errorf("make image-ref VERSION=v2.0.1 printed %q, want localhost/demo:2.0.1", out)
	}
	// Without the kubernetes target it only prints the reference.
	if err := os.RemoveAll(filepath.Join(dir, "deploy", "kubernetes")); err != nil {
		t.Fatal(err)
	}
	if out := runCmd(t, ctx, os.Environ(), dir, "make", "--no-print-directory", "image-ref", "TAG=x"); out != "localhost/demo:x" {
		t.Errorf("make image-ref with no overlay printed %q", out)
	}
}

// pullPolicyCases: tags that name one build (a version, git describe's output, a commit)
// never move; the others are pushed again under the same name.
var pullPolicyCases = []struct{ tag, want string }{
	{"1.2.3", "IfNotPresent"},
	{"v1.2.3", "IfNotPresent"},
	{"1.2.3-rc.1", "IfNotPresent"},
	{"1.2.3+build.5", "IfNotPresent"},
	{"1.2.3-4-gabc1234", "IfNotPresent"}, // git describe, clean tree
	{"abc1234", "IfNotPresent"},          // git describe --always, no tag yet
	{"0123456789abcdef0123456789abcdef01234567", "IfNotPresent"},
	{"latest", "Always"},
	{"dev", "Always"}, // the Makefile's VERSION outside git, deploy-config's default
	{"1.2.3-4-gabc1234-dirty", "Always"},
	{"abc1234-dirty", "Always"},
	{"1.2", "Always"}, // a minor's tag moves with each patch release
	{"1", "Always"},
	{"main", "Always"},
	{"stable", "Always"},
	{"ABC1234", "Always"}, // not a commit: git writes lowercase
	{"abc12", "Always"},   // too short for git's abbreviation
}

func TestPullPolicy(t *testing.T) {
	for _, c := range pullPolicyCases {
		if got := pullPolicy(c.tag); got != c.want {
			t.Errorf("pullPolicy(%q) = %s, want %s", c.tag, got, c.want)
		}
	}
}

// The generated Makefile's image-ref applies deploy-config's pull policy rule: after
// `make image-ref TAG=X` the production overlay's containers pull as pullPolicy(X) says.
func TestMakeImageRefPullPolicy(t *testing.T) {
	testenv.Tool(t, "make")
	dir := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabasePostgres})
	writeDeploy(t, dir, Options{Targets: []string{"kubernetes", "container"}})
	overlay := filepath.Join(dir, "deploy", "kubernetes", "production", "kustomization.yaml")
	for _, c := range pullPolicyCases {
		out := runCmd(t, context.Background(), os.Environ(), dir, "make", "--no-print-directory", "image-ref", "TAG="+c.tag)
		data, err := os.ReadFile(overlay)
		if err != nil {
			t.Fatal(err)
		}
		// The app's container and the migrate init container, each as the rule says.
		if n := strings.Count(string(data), "imagePullPolicy: "+c.want+"\n"); n != 2 || strings.Count(string(data), "imagePullPolicy:") != 2 {
			t.Errorf("make image-ref TAG=%s (%s): want both containers on imagePullPolicy %s:\n%s", c.tag, out, c.want, data)
		}
		if !strings.HasSuffix(out, "(imagePullPolicy "+c.want+")") {
			t.Errorf("make image-ref TAG=%s printed %q, want the policy %s", c.tag, out, c.want)
		}
	}
}

// startContainerTest skips t when it cannot build and run an image here (or under -short),
// and gives its context (cancelled when t ends), podman's CONTAINERS_CONF=... setting and
// the environment of podman commands.
func startContainerTest(t *testing.T, limit time.Duration) (context.Context, string, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a project and a container image")
	}
	for _, tool := range []string{"podman", "make", "go"} {
		testenv.Tool(t, tool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	t.Cleanup(cancel)
	conf := podmanConf(t)
	return ctx, conf, append(os.Environ(), conf)
}

// TestContainerImage builds the image of a fresh project with podman and runs it the way
// the Containerfile says: as the numeric non-root user, read-only root, host network on
// 127.0.0.1. `podman stop` (SIGTERM to the master, PID 1) lets an in-flight request finish
// and exits 0.
func TestContainerImage(t *testing.T) {
	ctx, conf, env := startContainerTest(t, 4*time.Minute)
	dir := newProject(t, "demo")
	addTestRoutes(t, dir)
	tag := "t" + strconv.FormatInt(time.Now().UnixNano(), 36)
	const image = "localhost/scaffold-test-demo"
	took := buildImage(t, ctx, conf, dir, image, tag, Options{})
	size := runCmd(t, ctx, env, "", "podman", "image", "inspect", "--format", "{{.Size}} {{.Config.User}} {{.Config.StopSignal}}", image+":"+tag)
	t.Logf("make image: %s; image size, user, stop signal: %s", took.Round(time.Millisecond), size)
	if f := strings.Fields(size); len(f) != 3 || f[1] != "10001:10001" || f[2] != "SIGTERM" {
		t.Errorf("image config %q, want user 10001:10001 and SIGTERM", size)
	}

	port, health := testenv.FreePort(t), testenv.FreePort(t)
	name := "scaffold-test-" + tag
	// As deploy/README.md says: no --tmpfs, the image's own /run/demo holds the control socket.
	runCmd(t, ctx, env, "", "podman", "run", "-d", "--name", name, "--network=host",
		"--cap-drop=ALL", "--security-opt=no-new-privileges", image+":"+tag,
		"-c", "/app/config", "-b", "127.0.0.1:"+strconv.Itoa(port), "--health-bind", "127.0.0.1:"+strconv.Itoa(health))
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "-f", "-t", "0", name).Run() })
	logs := func() string {
		out, _ := exec.Command("podman", "logs", name).CombinedOutput()
		return string(out)
	}
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(time.Minute)
	waitFor(t, "the container's /readyz", deadline, func() error { return wantStatus("http://127.0.0.1:"+strconv.Itoa(health)+"/readyz", 200) })
	if err := wantStatus(base+"/", 200); err != nil {
		t.Fatalf("%v\n%s", err, logs())
	}
	// status inside the container reaches the master over the control socket.
	var st struct {
		PID     int               `json:"pid"`
		Workers []json.RawMessage `json:"workers"`
	}
	out := runCmd(t, ctx, env, "", "podman", "exec", name, "/app/bin/demo", "status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil || st.PID != 1 || len(st.Workers) == 0 {
		t.Errorf("podman exec demo status --json: %v, want the master (pid 1) and its workers; got\n%s\n%s", err, out, logs())
	}
	pid := runCmd(t, ctx, env, "", "podman", "inspect", "--format", "{{.State.Pid}}", name)
	if uid := processUID(t, atoi(t, pid)); uid != 10001 {
		t.Errorf("the master (pid %s on the host) runs as uid %d, want 10001", pid, uid)
	}

	// An in-flight request when podman stop sends SIGTERM completes.
	resp, err := http.Get(base + "/slow?ms=2000")
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan string, 1)
	go func() {
		out, _ := exec.CommandContext(ctx, "podman", "stop", "-t", "30", name).CombinedOutput()
		stopped <- string(out)
	}()
	body, err := io.ReadAll(bufio.NewReader(resp.Body))
	resp.Body.Close()
	if err != nil || string(body) != "slow done\n" {
		t.Errorf("in-flight request across podman stop: %q, %v\n%s", body, err, logs())
	}
	<-stopped
	if code := runCmd(t, ctx, env, "", "podman", "inspect", "--format", "{{.State.ExitCode}}", name); code != "0" {
		t.Errorf("exit code %s after podman stop, want 0\n%s", code, logs())
	}
}

func wantStatus(url string, want int) error {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %d, want %d", url, resp.StatusCode, want)
	}
	return nil
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestContainerSecretFile runs a PostgreSQL project's image the way deploy/README.md says
// for a container: the DSN, password included, as a podman secret mounted as a file that
// APP_DATABASE_DSN_FILE names. The app reaches the database with it, and the password is
// in no process's environment (the master's and every worker's, from the host's /proc),
// not in --print-config, not in the logs.
func TestContainerSecretFile(t *testing.T) {
	ctx, conf, env := startContainerTest(t, 6*time.Minute)
	dir := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabasePostgres})
	tag := "s" + strconv.FormatInt(time.Now().UnixNano(), 36)
	const image = "localhost/scaffold-test-demo-db"
	buildImage(t, ctx, conf, dir, image, tag, Options{})

	// The test's server listens on a unix socket in pg.Dir, which the container mounts; the
	// app's user (10001) needs to reach it.
	pg := testenv.StartPostgres(t, "demo")
	if err := os.Chmod(pg.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dsn := withPassword(t, pg)
	secretFile := filepath.Join(t.TempDir(), "database.dsn")
	writeFile(t, secretFile, dsn+"\n")
	secret := "scaffold-test-" + tag
	runCmd(t, ctx, env, "", "podman", "secret", "create", secret, secretFile)
	t.Cleanup(func() { _ = exec.Command("podman", "secret", "rm", secret).Run() })

	port, health := testenv.FreePort(t), testenv.FreePort(t)
	name := "scaffold-test-" + tag
	const target = "/run/secrets/demo/database.dsn"
	// As deploy/README.md says: podman run --secret NAME,target=... -e APP_DATABASE_DSN_FILE=...
	runCmd(t, ctx, env, "", "podman", "run", "-d", "--name", name, "--network=host",
		"--cap-drop=ALL", "--security-opt=no-new-privileges", "-v", pg.Dir+":"+pg.Dir,
		"--secret", secret+",target="+target, "-e", "APP_DATABASE_DSN_FILE="+target,
		image+":"+tag,
		"-c", "/app/config", "-b", "127.0.0.1:"+strconv.Itoa(port), "-w", "2", "--health-bind", "127.0.0.1:"+strconv.Itoa(health))
	t.Cleanup(func() { _ = exec.Command("podman", "rm", "-f", "-t", "0", name).Run() })
	logs := func() string {
		out, _ := exec.Command("podman", "logs", name).CombinedOutput()
		return string(out)
	}
	// The app's own /readyz pings the database: 200 means the DSN from the file works.
	waitFor(t, "the app's /readyz (the database reached)", time.Now().Add(time.Minute), func() error {
		return wantStatus("http://127.0.0.1:"+strconv.Itoa(port)+"/readyz", 200)
	})

	master := atoi(t, runCmd(t, ctx, env, "", "podman", "inspect", "--format", "{{.State.Pid}}", name))
	printed := runCmd(t, ctx, env, "", "podman", "exec", name, "/app/bin/demo", "-c", "/app/config", "--print-config")
	checkSecretHidden(t, master, 2, printed, "(file "+target+")", logs())
	// The file's path is what the environment carries instead.
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", master)); err != nil || !strings.Contains(string(data), "APP_DATABASE_DSN_FILE="+target) {
		t.Errorf("the master's environment lacks APP_DATABASE_DSN_FILE=%s (%v)", target, err)
	}
}
