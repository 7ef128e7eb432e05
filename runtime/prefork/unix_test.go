package prefork

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func unixClient(path string) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}}
}

func TestUnixSocketFromSystemdActivation(t *testing.T) {
	needProc(t)
	t.Parallel()
	// systemd's LISTEN_FDS (LISTEN_PID left out: unknown before exec) on a
	// unix socket; the -b given is overridden by the inherited socket.
	sock := filepath.Join(t.TempDir(), "app.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	files, err := ListenerFiles([]net.Listener{ln})
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "log")
	logf, _ := os.Create(logPath)
	defer logf.Close()
	cmd := exec.Command(os.Args[0], "-w", "2", "-b", "127.0.0.1:1")
	cmd.ExtraFiles = files
	cmd.Env = append(cleanEnv(os.Environ()), "PREFORK_TEST_HELPER=run", "LISTEN_FDS=1", "LISTEN_FDNAMES=web")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	files[0].Close()
	ln.Close()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	defer func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log:\n%s", b)
		}
	}()
	c := unixClient(sock)
	resp, err := c.Get("http://app/pid")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	b, _ := os.ReadFile(logPath)
	if !strings.Contains(string(b), "inherited=true") || !strings.Contains(string(b), "listeners=web") {
		t.Errorf("master did not use the activated socket:\n%s", b)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("an inherited socket's path must stay (systemd owns it): %v", err)
	}
}

func TestUnixBindServesAndIsRemovedOnExit(t *testing.T) {
	needProc(t)
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "app.sock")
	p := startHelper(t, "run", []string{"-w", "1", "-b", "unix:" + sock})
	p.waitLog("master ready", 1, bootWithin)
	if _, err := unixClient(sock).Get("http://app/"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.get(newClient(), "/"); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGTERM)
	if code := p.exit(15 * time.Second); code != 0 {
		t.Errorf("exit code %d", code)
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("socket %s left after exit: %v", sock, err)
	}
}
