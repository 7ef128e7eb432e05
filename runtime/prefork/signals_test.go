package prefork

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestUSR1ReopensLogsOfMasterAndWorkers(t *testing.T) {
	needProc(t)
	t.Parallel()
	dir := t.TempDir()
	logPath := filepath.Join(dir, "error.log")
	p := startHelper(t, "run", []string{"-w", "1", "--error-logfile", logPath, "--log-level", "debug"})
	deadline := time.Now().Add(bootWithin)
	for {
		b, _ := os.ReadFile(logPath)
		if strings.Contains(string(b), "master ready") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no 'master ready' in %s:\n%s", logPath, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	worker := p.waitWorkers(1, 5*time.Second, nil)[0]
	if err := os.Rename(logPath, logPath+".1"); err != nil { // logrotate
		t.Fatal(err)
	}
	p.signal(syscall.SIGUSR1)
	p.signal(syscall.SIGTERM)
	p.exit(15 * time.Second)
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("log not reopened: %v", err)
	}
	if !strings.Contains(string(b), "master stopped") {
		t.Errorf("master did not write to the reopened log:\n%s", b)
	}
	if !strings.Contains(string(b), fmt.Sprintf("msg=\"log file reopened\" worker=1 generation=1 pid=%d", worker)) {
		t.Errorf("worker %d did not write to the reopened log:\n%s", worker, b)
	}
}
