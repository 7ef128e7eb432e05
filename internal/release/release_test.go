package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/pipeline"
	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// How to install the tools that come from `go install` (into GOPATH/bin, where
// testenv.Tool looks too), as .ci/run and docs/RELEASING.md do.
const (
	installGoreleaser = "go install github.com/goreleaser/goreleaser/v2@v2.14.0, or a release binary"
	installActionlint = "go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.7"
)

// gitEnv makes the test's commits independent of the machine's git configuration.
var gitEnv = []string{
	"GIT_AUTHOR_NAME=scaffold test", "GIT_AUTHOR_EMAIL=test@example.com",
	"GIT_COMMITTER_NAME=scaffold test", "GIT_COMMITTER_EMAIL=test@example.com",
	"GIT_CONFIG_NOSYSTEM=1",
}

// run runs name in dir and returns its combined output, failing the test on an error.
func run(t *testing.T, dir string, name string, args ...string) string {
	t.Helper()
	out, err := tryRun(t, dir, name, args...)
	if err != nil {
		t.Fatalf("%s %s (in %s): %v\n%s", filepath.Base(name), strings.Join(args, " "), dir, err, out)
	}
	return out
}

// tryRun runs name in dir, bounded to five minutes, and returns its output and error.
func tryRun(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = testenv.OfflineGoEnv(gitEnv...) // the module cache has the dependencies; no network
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// repoRoot is scaffold's checkout, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(root, "go.mod")); err != nil || !bytes.Contains(data, []byte("module github.com/scaffoldgo/scaffold\n")) {
		t.Fatalf("%s is not scaffold's checkout (go.mod: %v)", root, err)
	}
	return root
}

// releaseFiles are what goreleaser reads from scaffold's tree besides the Go code. The
// clone takes them from the working tree, so an edit is tested before it is committed.
var releaseFiles = []string{".goreleaser.yaml", "LICENSE", "README.md", "packaging/lintian-overrides", "packaging/rpmlint.toml", "templates/project/packaging/package-docs.sh"}

// cloneScaffold clones scaffold's committed tree into a temporary folder (goreleaser wants
// a git repository, and a clean one for a release) with the working tree's releaseFiles.
func cloneScaffold(t *testing.T, git string) string {
	t.Helper()
	root := repoRoot(t)
	clone := filepath.Join(t.TempDir(), "scaffold")
	run(t, root, git, "clone", "-q", "--no-hardlinks", root, clone)
	for _, f := range releaseFiles {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(clone, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(clone, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out := run(t, clone, git, "status", "--porcelain"); out != "" {
		run(t, clone, git, "add", "-A")
		run(t, clone, git, "commit", "-q", "-m", "release files from the working tree")
	}
	return clone
}

// metadata is dist/metadata.json: the version goreleaser computed.
type metadata struct {
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// artifact is one entry of dist/artifacts.json.
type artifact struct {
	Name   string `json:"name"`
	Path   string `json:"path"`
	Goos   string `json:"goos"`
	Goarch string `json:"goarch"`
	Type   string `json:"type"`
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// findArtifact returns the path (relative to dir) of the artifact of the given type whose
// name satisfies match.
func findArtifact(t *testing.T, dir, typ string, match func(artifact) bool) string {
	t.Helper()
	var all []artifact
	readJSON(t, filepath.Join(dir, "dist", "artifacts.json"), &all)
	for _, a := range all {
		if a.Type == typ && match(a) {
			return filepath.Join(dir, a.Path)
		}
	}
	t.Fatalf("dist/artifacts.json has no %s artifact matching; it has %+v", typ, all)
	return ""
}

// Both goreleaser configurations pass `goreleaser check` (run where each lives: a git
// repository with a remote, as goreleaser requires).
func TestGoreleaserCheck(t *testing.T) {
	gr, git := testenv.Tool(t, "goreleaser", installGoreleaser), testenv.Tool(t, "git")
	t.Run("scaffold", func(t *testing.T) {
		run(t, cloneScaffold(t, git), gr, "check")
	})
	t.Run("project", func(t *testing.T) {
		dir := generate(t, "demo")
		gitInit(t, git, dir)
		run(t, dir, gr, "check")
	})
}

// A snapshot build of scaffold is a binary whose `version` prints the snapshot version and
// commit goreleaser computed: the ldflags reach internal/build.
func TestScaffoldSnapshot(t *testing.T) {
	gr, git := testenv.Tool(t, "goreleaser", installGoreleaser), testenv.Tool(t, "git")
	clone := cloneScaffold(t, git)
	run(t, clone, gr, "build", "--snapshot", "--single-target", "--clean")
	var meta metadata
	readJSON(t, filepath.Join(clone, "dist", "metadata.json"), &meta)
	if !strings.HasSuffix(meta.Version, "-next") || len(meta.Commit) < 12 {
		t.Fatalf("dist/metadata.json: version %q, commit %q; want the snapshot template's X.Y.Z-next and a commit", meta.Version, meta.Commit)
	}
	bin := findArtifact(t, clone, "Binary", func(a artifact) bool { return strings.TrimSuffix(a.Name, ".exe") == "scaffold" })
	got := strings.TrimSpace(run(t, clone, bin, "version"))
	if want := "scaffold " + meta.Version + " (" + meta.Commit[:12] + ", "; !strings.HasPrefix(got, want) {
		t.Fatalf("scaffold version = %q, want it to start with %q", got, want)
	}

	// The release steps (archives, checksums, packages) for this platform only: the same
	// configuration with the other targets taken out, so the test builds one binary.
	t.Run("release", func(t *testing.T) {
		if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
			t.Skipf("the trimmed release builds linux/amd64 or linux/arm64, not %s/%s", runtime.GOOS, runtime.GOARCH)
		}
		dpkgDeb := testenv.Tool(t, "dpkg-deb")
		cfg, err := os.ReadFile(filepath.Join(clone, ".goreleaser.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		trimmed := string(cfg)
		for old, repl := range map[string]string{
			"goos: [linux, darwin, windows]": "goos: [linux]",
			"goarch: [amd64, arm64]":         "goarch: [" + runtime.GOARCH + "]",
		} {
			if !strings.Contains(trimmed, old) {
				t.Fatalf(".goreleaser.yaml has no line %q for this test to trim: update the test with the targets", old)
			}
			trimmed = strings.Replace(trimmed, old, repl, 1)
		}
		cfgPath := filepath.Join(t.TempDir(), "goreleaser.yaml")
		if err := os.WriteFile(cfgPath, []byte(trimmed), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, clone, gr, "release", "-f", cfgPath, "--snapshot", "--clean", "--skip=publish")

		archive := findArtifact(t, clone, "Archive", func(a artifact) bool { return strings.HasSuffix(a.Name, ".tar.gz") })
		names := tarNames(t, archive)
		for _, want := range []string{"scaffold", "README.md", "LICENSE"} {
			if !slices.Contains(names, want) {
				t.Errorf("%s lacks %s; it holds %v", filepath.Base(archive), want, names)
			}
		}
		deb := findArtifact(t, clone, "Linux Package", func(a artifact) bool { return strings.HasSuffix(a.Name, ".deb") })
		listing := run(t, clone, dpkgDeb, "-c", deb)
		for _, want := range []string{"./usr/bin/scaffold", "./usr/share/doc/scaffold/copyright", "./usr/share/doc/scaffold/changelog.Debian.gz", "./usr/share/man/man1/scaffold.1.gz"} {
			if !strings.Contains(listing, want+"\n") {
				t.Errorf("%s lacks %s:\n%s", filepath.Base(deb), want, listing)
			}
		}
		// Debian's and Fedora's linters find nothing but what packaging/ allows, with reasons.
		lintDeb(t, deb, "statically-linked-binary")
		rpm := findArtifact(t, clone, "Linux Package", func(a artifact) bool { return strings.HasSuffix(a.Name, ".rpm") })
		if files := rpmFiles(t, rpm); !strings.Contains(files, "/usr/share/man/man1/scaffold.1.gz\n") {
			t.Errorf("%s has no manual page:\n%s", filepath.Base(rpm), files)
		}
		lintRPM(t, rpm, filepath.Join(clone, "packaging", "rpmlint.toml"))
		sums, err := os.ReadFile(filepath.Join(clone, "dist", "checksums.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{archive, deb} {
			if !strings.Contains(string(sums), "  "+filepath.Base(f)+"\n") {
				t.Errorf("checksums.txt does not list %s:\n%s", filepath.Base(f), sums)
			}
		}
		if !strings.Contains(string(sums), ".rpm\n") {
			t.Errorf("checksums.txt lists no .rpm:\n%s", sums)
		}
	})
}

// tarNames lists a .tar.gz.
func tarNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return names
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		names = append(names, h.Name)
	}
}

// generate writes a fresh project named name into a temporary folder, as `scaffold new`
// does (package units included).
func generate(t *testing.T, name string) string {
	t.Helper()
	return generateWith(t, project.Options{Name: name})
}

// generateWith writes a project made with opts into a temp dir, package units included.
func generateWith(t *testing.T, opts project.Options) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), opts.Name)
	if err := pipeline.New(&pipeline.NewRun{Options: opts, Target: dir}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// gitInit makes dir a repository with one commit and a GitHub remote, as a project is
// once pushed (goreleaser derives the release repository from the remote).
func gitInit(t *testing.T, git, dir string) {
	t.Helper()
	run(t, dir, git, "init", "-q")
	run(t, dir, git, "remote", "add", "origin", "https://github.com/example/"+filepath.Base(dir)+".git")
	commitAll(t, git, dir, "scaffold new")
}

func commitAll(t *testing.T, git, dir, msg string) {
	t.Helper()
	run(t, dir, git, "add", "-A")
	run(t, dir, git, "commit", "-q", "-m", msg)
}

// buildScaffold builds this checkout's scaffold binary, for the generated Makefile's
// `make package-units` (SCAFFOLD=...).
func buildScaffold(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "scaffold")
	run(t, repoRoot(t), "go", "build", "-o", bin, "./cmd/scaffold")
	return bin
}

// A project fresh from `scaffold new` and its first commit releases, as the generated
// release workflow does on the first tag: the package units are there from the start, and
// `make package-units` (deploy-config with the package layout) would change none of them.
// The snapshot release makes a .deb with the binary, the units and the config as conffiles,
// and the installed layout serves: the unit's own command line, run inside the unpacked
// package, answers with the packaged static files. All of it after `scaffold deploy-config
// all` wrote the user's own host layout (/opt/demo) into deploy/, beside packaging/.
// Then a config change makes `make package-check` name the stale unit, until
// `make package-units` rewrites it.
func TestProjectSnapshotRelease(t *testing.T) {
	gr, git, mk, dpkgDeb := testenv.Tool(t, "goreleaser", installGoreleaser), testenv.Tool(t, "git"), testenv.Tool(t, "make"), testenv.Tool(t, "dpkg-deb")
	const name = "demo"
	scaffoldBin := buildScaffold(t)
	parent := t.TempDir()
	run(t, parent, scaffoldBin, "new", name, "--yes", "--maintainer", "Ada Lovelace <ada@example.com>")
	dir := filepath.Join(parent, name)
	gitInit(t, git, dir)

	run(t, dir, mk, "package-units", "SCAFFOLD="+scaffoldBin)
	if st := run(t, dir, git, "status", "--porcelain"); st != "" {
		t.Fatalf("make package-units right after scaffold new changed packaging/:\n%s", st)
	}
	// The host layout has a folder of its own: writing it leaves the packages' units be.
	run(t, dir, scaffoldBin, "deploy-config", "all")
	if st := run(t, dir, git, "status", "--porcelain", "packaging"); st != "" {
		t.Fatalf("scaffold deploy-config all changed packaging/:\n%s", st)
	}
	commitAll(t, git, dir, "deploy-config all")
	run(t, dir, gr, "release", "--snapshot", "--clean", "--skip=publish")

	deb := findArtifact(t, dir, "Linux Package", func(a artifact) bool {
		return strings.HasSuffix(a.Name, ".deb") && a.Goarch == "amd64"
	})
	listing := run(t, dir, dpkgDeb, "-c", deb)
	wantFiles := []string{
		"./usr/bin/" + name,
		"./lib/systemd/system/" + name + ".service",
		"./lib/systemd/system/" + name + ".socket",
		"./etc/" + name + "/config.yaml",
		"./etc/" + name + "/logging.yaml",
		"./etc/" + name + "/setting.yaml",
		"./etc/logrotate.d/" + name,
		"./usr/share/" + name + "/static/css/style.css",
		"./usr/share/doc/" + name + "/copyright",
		"./usr/share/doc/" + name + "/changelog.Debian.gz",
		"./usr/share/man/man1/" + name + ".1.gz",
		"./usr/share/lintian/overrides/" + name,
	}
	for _, want := range wantFiles {
		if !strings.Contains(listing, " "+want+"\n") {
			t.Errorf("%s lacks %s:\n%s", filepath.Base(deb), want, listing)
		}
	}

	control := t.TempDir()
	run(t, dir, dpkgDeb, "-e", deb, control)
	conffiles, err := os.ReadFile(filepath.Join(control, "conffiles"))
	if err != nil {
		t.Fatalf("the .deb has no conffiles: %v", err)
	}
	want := "/etc/" + name + "/config.yaml\n/etc/" + name + "/logging.yaml\n/etc/" + name + "/setting.yaml\n/etc/logrotate.d/" + name + "\n"
	if string(conffiles) != want {
		t.Errorf("conffiles =\n%s\nwant\n%s", conffiles, want)
	}
	for _, script := range []string{"postinst", "prerm", "postrm"} {
		data, err := os.ReadFile(filepath.Join(control, script))
		if err != nil {
			t.Errorf("the .deb has no %s: %v", script, err)
		} else if want, _ := os.ReadFile(filepath.Join(dir, "packaging", "deb", script)); !bytes.Equal(data, want) {
			t.Errorf("the .deb's %s is not packaging/deb/%s", script, script)
		}
	}
	if ctl, err := os.ReadFile(filepath.Join(control, "control")); err != nil || !strings.Contains(string(ctl), "\nMaintainer: Ada Lovelace <ada@example.com>\n") {
		t.Errorf("the .deb's control does not name the maintainer scaffold new was given: %v\n%s", err, ctl)
	}
	// Debian's and Fedora's linters find nothing but what packaging/ allows, with reasons.
	lintDeb(t, deb, "statically-linked-binary")

	rpms, _ := filepath.Glob(filepath.Join(dir, "dist", "*.rpm"))
	archive := findArtifact(t, dir, "Archive", func(a artifact) bool { return a.Goarch == "amd64" })
	if len(rpms) != 2 {
		t.Errorf("dist/ has %d .rpm packages, want 2 (amd64, arm64): %v", len(rpms), rpms)
	}
	// Each format's socket unit lets its distribution's nginx in: www-data on Debian, nginx on RPM systems.
	debRoot := t.TempDir()
	run(t, dir, dpkgDeb, "-x", deb, debRoot)
	if g := unit(t, filepath.Join(debRoot, "lib/systemd/system", name+".socket"))["SocketGroup"]; !slices.Equal(g, []string{"www-data"}) {
		t.Errorf("the .deb's socket unit has SocketGroup=%v, want www-data", g)
	}
	if len(rpms) > 0 {
		rpm := findArtifact(t, dir, "Linux Package", func(a artifact) bool {
			return strings.HasSuffix(a.Name, ".rpm") && a.Goarch == "amd64"
		})
		if files := rpmFiles(t, rpm); !strings.Contains(files, "/usr/share/man/man1/"+name+".1.gz\n") || !strings.Contains(files, "/usr/share/licenses/"+name+"/copyright\n") {
			t.Errorf("%s lacks the manual page or the copyright file:\n%s", filepath.Base(rpm), files)
		}
		lintRPM(t, rpm, filepath.Join(dir, "packaging", "rpmlint.toml"))
		rpmRoot := t.TempDir()
		// The payload's paths are absolute: --no-absolute-filenames keeps them under rpmRoot.
		rpm2cpio, cpio := testenv.Tool(t, "rpm2cpio"), testenv.Tool(t, "cpio")
		run(t, rpmRoot, "sh", "-c", `"$0" "$1" | "$2" -idm --quiet --no-absolute-filenames`, rpm2cpio, rpms[0], cpio)
		for _, f := range []string{"usr/bin/" + name, "usr/lib/systemd/system/" + name + ".service", "etc/" + name + "/config.yaml"} {
			if _, err := os.Stat(filepath.Join(rpmRoot, f)); err != nil {
				t.Errorf("%s lacks /%s", filepath.Base(rpms[0]), f)
			}
		}
		if g := unit(t, filepath.Join(rpmRoot, "usr/lib/systemd/system", name+".socket"))["SocketGroup"]; !slices.Equal(g, []string{"nginx"}) {
			t.Errorf("the .rpm's socket unit has SocketGroup=%v, want nginx", g)
		}
	}

	names := tarNames(t, archive)
	for _, want := range []string{name, "config/config.yaml", "static/css/style.css", "packaging/systemd/" + name + ".service", "README.md"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s lacks %s; it holds %v", filepath.Base(archive), want, names)
		}
	}

	t.Run("package-check", func(t *testing.T) { packageCheck(t, dir, mk, git, scaffoldBin) })

	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skipf("the packaged binary is linux/amd64; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	serveInstalled(t, debRoot, name, filepath.Join(dir, "web", "static", "css", "style.css"))
}

// packageCheck: goreleaser's before hook tells a stale unit from a missing one. A config
// change that the units reflect makes it name the first stale unit; make package-units
// rewrites them and it passes; a deleted unit is reported missing.
func packageCheck(t *testing.T, dir, mk, git, scaffoldBin string) {
	run(t, dir, mk, "--no-print-directory", "package-check")
	cfgPath := filepath.Join(dir, "config", "config.yaml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(cfg), "graceful_timeout: 30s", "graceful_timeout: 45s", 1)
	if changed == string(cfg) {
		t.Fatalf("config/config.yaml has no graceful_timeout: 30s to change:\n%s", cfg)
	}
	if err := os.WriteFile(cfgPath, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := tryRun(t, dir, mk, "--no-print-directory", "package-check")
	if want := "packaging/systemd/demo.service is stale: config/ changed since it was derived from it"; err == nil || !strings.Contains(out, want) {
		t.Fatalf("package-check after a config change: err %v, want %q; output:\n%s", err, want, out)
	}
	run(t, dir, mk, "package-units", "SCAFFOLD="+scaffoldBin)
	if unit, err := os.ReadFile(filepath.Join(dir, "packaging", "systemd", "demo.service")); err != nil || !strings.Contains(string(unit), "TimeoutStopSec=55\n") {
		t.Errorf("after make package-units, the unit does not wait graceful_timeout 45s + 10s: %v\n%s", err, unit)
	}
	run(t, dir, mk, "--no-print-directory", "package-check")
	commitAll(t, git, dir, "graceful_timeout 45s")

	if err := os.Remove(filepath.Join(dir, "packaging", "rpm", "systemd", "demo.socket")); err != nil {
		t.Fatal(err)
	}
	out, err = tryRun(t, dir, mk, "--no-print-directory", "package-check")
	if want := "packaging/rpm/systemd/demo.socket is missing: run 'make package-units'"; err == nil || !strings.Contains(out, want) {
		t.Fatalf("package-check without a unit: err %v, want %q; output:\n%s", err, want, out)
	}
}

// unit reads the settings of a systemd unit file: key -> values in order.
func unit(t *testing.T, path string) map[string][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, ";") {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// serveInstalled runs the service as its packaged unit says (binary, -c, working folder,
// environment), with every absolute path moved under root where the .deb was unpacked and
// a unix socket in place of systemd's fd 3, waits for READY=1 on a notify socket as
// systemd would, and fetches the home page and a static file.
func serveInstalled(t *testing.T, root, name, staticSrc string) {
	u := unit(t, filepath.Join(root, "lib", "systemd", "system", name+".service"))
	if len(u["ExecStart"]) != 1 || len(u["WorkingDirectory"]) != 1 {
		t.Fatalf("%s.service: want one ExecStart and one WorkingDirectory, got %q and %q", name, u["ExecStart"], u["WorkingDirectory"])
	}
	tmp := t.TempDir()
	sock := filepath.Join(tmp, "app.sock")
	args := strings.Fields(u["ExecStart"][0])
	bin := filepath.Join(root, args[0])
	args = args[1:]
	for i, a := range args {
		switch {
		case i > 0 && args[i-1] == "-c":
			if fi, err := os.Stat(filepath.Join(root, a)); err != nil || !fi.IsDir() {
				t.Fatalf("ExecStart's -c %s is not a folder of the package", a)
			}
			args[i] = filepath.Join(root, a)
		case a == "fd://3":
			args[i] = "unix:" + sock
		}
	}
	workDir := filepath.Join(root, u["WorkingDirectory"][0])

	notify, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(tmp, "notify"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer notify.Close()

	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append(args, "-w", "1")...)
	cmd.Dir = workDir
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "LISTEN_") || strings.HasPrefix(kv, "NOTIFY_SOCKET=") || strings.HasPrefix(kv, "APP_")
	})
	cmd.Env = append(cmd.Env, u["Environment"]...)
	// Logs and the control socket go where this test can write, not to /var/log and /run.
	cmd.Env = append(cmd.Env, "APP_LOGGING_OUTPUT=stderr", "APP_LOGGING_ACCESS_LOG_OUTPUT=stderr",
		"APP_SERVER_CONTROL_SOCKET="+filepath.Join(tmp, "ctl"), "NOTIFY_SOCKET="+filepath.Join(tmp, "notify"))
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 40 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()

	ready := make(chan error, 1)
	go func() {
		buf := make([]byte, 4096)
		_ = notify.SetReadDeadline(time.Now().Add(45 * time.Second))
		for {
			n, err := notify.Read(buf)
			if err != nil {
				ready <- err
				return
			}
			if slices.Contains(strings.Split(string(buf[:n]), "\n"), "READY=1") {
				ready <- nil
				return
			}
		}
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("no READY=1 from the installed service: %v\n%s", err, logs.String())
		}
	case err := <-exited:
		stopped = true
		t.Fatalf("the installed service exited before it was ready: %v\n%s", err, logs.String())
	}

	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	get := func(path string) []byte {
		resp, err := client.Get("http://" + name + path)
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", path, err, logs.String())
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s\n%s", path, resp.Status, body)
		}
		return body
	}
	get("/")
	wantCSS, err := os.ReadFile(staticSrc)
	if err != nil {
		t.Fatal(err)
	}
	if got := get("/static/css/style.css"); !bytes.Equal(got, wantCSS) {
		t.Errorf("GET /static/css/style.css from the installed layout: not web/static/css/style.css:\n%s", got)
	}

	// TERM, as systemctl stop sends it: a graceful stop, exit status 0.
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped = true
	if err := <-exited; err != nil {
		t.Errorf("the installed service did not stop cleanly on TERM: %v\n%s", err, logs.String())
	}
}

// The workflows pass actionlint: scaffold's own, and a generated project's as rendered
// (their GitHub ${{ }} expressions must survive the project templates).
func TestWorkflowsLint(t *testing.T) {
	actionlint := testenv.Tool(t, "actionlint", installActionlint)
	own, err := filepath.Glob(filepath.Join(repoRoot(t), ".github", "workflows", "*.yml"))
	if err != nil || len(own) < 2 {
		t.Fatalf("scaffold's .github/workflows: %v %v, want ci.yml and release.yml", own, err)
	}
	dir := generate(t, "demo")
	pg := generateWith(t, project.Options{Name: "notes", Database: state.DatabasePostgres})
	generated := []string{
		filepath.Join(dir, ".github", "workflows", "ci.yml"),
		filepath.Join(dir, ".github", "workflows", "release.yml"),
		filepath.Join(pg, ".github", "workflows", "ci.yml"), // with its PostgreSQL service
	}
	run(t, dir, actionlint, append(own, generated...)...)
	release, err := os.ReadFile(generated[1])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(release), "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}") {
		t.Errorf("the generated release.yml does not pass the token as ${{ secrets.GITHUB_TOKEN }}:\n%s", release)
	}
}

// TestMain drops git's repository variables: run from a git hook or `git rebase -x`, the
// tests would inherit GIT_DIR, and their `git init` and commits of temporary projects would
// land in the developer's own repository.
func TestMain(m *testing.M) {
	for _, k := range []string{"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_PREFIX"} {
		os.Unsetenv(k)
	}
	os.Exit(m.Run())
}
