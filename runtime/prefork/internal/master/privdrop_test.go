//go:build unix

package master

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// requireRoot skips privilege tests unless running as root; under
// SCAFFOLD_REQUIRE_TOOLS=1 a root-less run still skips (the rule asks to
// fail only when root is available and the test cannot run).
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("privilege drop needs root (run the tests as root to cover --user/--group)")
	}
	if _, err := lookupCredentials("nobody", ""); err != nil {
		if os.Getenv("SCAFFOLD_REQUIRE_TOOLS") == "1" {
			t.Fatalf("running as root but user nobody is missing: %v", err)
		}
		t.Skipf("user nobody is missing: %v", err)
	}
}

func TestLookupCredentials(t *testing.T) {
	if c, err := lookupCredentials("", ""); c != nil || err != nil {
		t.Fatalf("no user/group: %v %v", c, err)
	}
	c, err := lookupCredentials("0", "")
	if err != nil || c.UID != 0 || c.GID != 0 {
		t.Fatalf("uid 0: %+v %v", c, err)
	}
	c, err = lookupCredentials("12345", "23456")
	if err != nil || c.UID != 12345 || c.GID != 23456 || len(c.Groups) != 1 || c.Groups[0] != 23456 {
		t.Fatalf("numeric ids without passwd entries: %+v %v", c, err)
	}
	if _, err := lookupCredentials("no-such-user-xyz", ""); err == nil || !strings.Contains(err.Error(), "--user no-such-user-xyz") {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := lookupCredentials("", "no-such-group-xyz"); err == nil || !strings.Contains(err.Error(), "--group no-such-group-xyz") {
		t.Errorf("unknown group: %v", err)
	}
	if u, err := lookupCredentials("nobody", ""); err == nil {
		if u.UID == 0 || u.needsChange() == (os.Geteuid() == int(u.UID)) {
			t.Errorf("nobody: %+v", u)
		}
		if cred := u.SysProcCredential(); (cred != nil) != u.needsChange() {
			t.Errorf("credential %+v for %+v", cred, u)
		}
	}
}

func TestApplyUnixSocketAccess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tcp, _ := net.Listen("tcp", "127.0.0.1:0")
	defer tcp.Close()
	gid := -1
	if os.Geteuid() == 0 {
		gid = 65534
	}
	if err := applyUnixSocketAccess([]net.Listener{tcp, ln}, 0o660, -1, gid); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("mode %v, want 0660", fi.Mode().Perm())
	}
	if gid != -1 && fi.Sys().(*syscall.Stat_t).Gid != uint32(gid) {
		t.Errorf("group %d, want %d", fi.Sys().(*syscall.Stat_t).Gid, gid)
	}
}

// TestDropHelper is not a test: it is the child process of TestDrop.
func TestDropHelper(t *testing.T) {
	if os.Getenv("PREFORK_TEST_DROP") == "" {
		t.Skip("helper process")
	}
	c, err := lookupCredentials("nobody", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Drop(); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() != int(c.UID) || os.Geteuid() != int(c.UID) || os.Getgid() != int(c.GID) {
		t.Fatalf("still uid %d gid %d", os.Getuid(), os.Getgid())
	}
	if err := syscall.Setuid(0); err == nil {
		t.Fatal("could regain root after the drop")
	}
	os.Stdout.WriteString("DROPPED\n")
}

func TestDrop(t *testing.T) {
	requireRoot(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestDropHelper$", "-test.v")
	cmd.Env = append(os.Environ(), "PREFORK_TEST_DROP=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "DROPPED") {
		t.Fatalf("drop in child: %v\n%s", err, out)
	}
}
