package prefork

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// procUID reads the real uid of a process from /proc.
func procUID(pid int) int {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return -1
}

func TestPrivilegeDropToNobody(t *testing.T) {
	requireRoot(t)
	needProc(t)
	t.Parallel()
	// nobody must be able to execute the binary the workers re-execute
	dir, err := os.MkdirTemp("", "prefork-privdrop-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	exe := filepath.Join(dir, "app")
	src, _ := os.ReadFile(os.Args[0])
	if err := os.WriteFile(exe, src, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chown(dir, int(nobodyIDs(t).UID), int(nobodyIDs(t).GID)) // like systemd's RuntimeDirectory=
	sock := filepath.Join(dir, "app.sock")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	files, _ := ListenerFiles([]net.Listener{ln})
	ln.Close()
	p := &proc{t: t, addr: ln.Addr().String(), logPath: filepath.Join(t.TempDir(), "stderr.log"), done: make(chan struct{}), seen: map[int]bool{}}
	logf, _ := os.Create(p.logPath)
	defer logf.Close()
	p.cmd = exec.Command(exe, "-b", "fd://3", "-b", "unix:"+sock, "-w", "2", "--user", "nobody", "--group", "nogroup",
		"--bind-mode", "0660", "--bind-group", "nogroup", "--umask", "0027")
	p.cmd.ExtraFiles = files
	p.cmd.Env = append(cleanEnv(os.Environ()), "PREFORK_TEST_HELPER=run")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.launch(files)
	p.waitLog("master ready", 1, bootWithin)
	nobody := nobodyIDs(t)
	if uid := procUID(p.cmd.Process.Pid); uid != int(nobody.UID) {
		t.Errorf("master uid %d after binding, want %d", uid, nobody.UID)
	}
	for _, w := range p.waitWorkers(2, 5*time.Second, nil) {
		if uid := procUID(w); uid != int(nobody.UID) {
			t.Errorf("worker %d uid %d, want %d", w, uid, nobody.UID)
		}
	}
	if body, err := p.get(newClient(), "/prod/whoami"); err != nil || !strings.HasSuffix(body, " "+strconv.Itoa(int(nobody.UID))) {
		t.Errorf("request served as %q (%v), want uid %d", body, err, nobody.UID)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if fi.Mode().Perm() != 0o660 || st.Gid != nobody.GID || st.Uid != nobody.UID {
		t.Errorf("unix socket mode %v owner %d:%d, want 0660 %d:%d", fi.Mode().Perm(), st.Uid, st.Gid, nobody.UID, nobody.GID)
	}
	uc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	resp, err := uc.Get("http://app/prod/whoami")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	p.signal(syscall.SIGTERM)
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the dropped master could not remove its unix socket: %v", err)
	}
}

// nobodyIDs are the uid of nobody and the gid of nogroup.
func nobodyIDs(t *testing.T) struct{ UID, GID uint32 } {
	t.Helper()
	u, err := user.Lookup("nobody")
	var g *user.Group
	if err == nil {
		g, err = user.LookupGroup("nogroup")
	}
	if err != nil {
		t.Skipf("no nobody/nogroup: %v", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(g.Gid, 10, 32)
	return struct{ UID, GID uint32 }{uint32(uid), uint32(gid)}
}

// requireRoot skips a privilege test unless this runs as root and user nobody
// exists (under SCAFFOLD_REQUIRE_TOOLS=1 a missing nobody fails), as
// internal/master's own privilege tests do.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("privilege drop needs root (run the tests as root to cover --user/--group)")
	}
	if _, err := user.Lookup("nobody"); err != nil && os.Getenv("SCAFFOLD_REQUIRE_TOOLS") == "1" {
		t.Fatalf("running as root but user nobody is missing: %v", err)
	} else if err != nil {
		t.Skipf("user nobody is missing: %v", err)
	}
}
