package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The package's maintainer scripts are clean POSIX sh for shellcheck.
func TestPackageScriptsShellcheck(t *testing.T) {
	shellcheck := tool(t, "shellcheck")
	dir := generate(t, "demo")
	scripts, _ := filepath.Glob(filepath.Join(dir, "packaging", "*.sh"))
	if len(scripts) != 3 {
		t.Fatalf("packaging/ has %v, want postinstall.sh, preremove.sh, postremove.sh", scripts)
	}
	run(t, dir, shellcheck, append([]string{"--shell=sh", "--severity=style"}, scripts...)...)
}

// stubbed runs a generated maintainer script with every command it may call replaced by a
// stub that logs its arguments: PATH holds only the stubs, so a real useradd or systemctl
// can never run here. getentFound says whether the user and group already exist.
func stubbed(t *testing.T, script string, getentFound bool, args ...string) (log string, out string, err error) {
	t.Helper()
	stubs := t.TempDir()
	logFile := filepath.Join(stubs, "calls.log")
	getentStatus := "2" // getent: key not found
	if getentFound {
		getentStatus = "0"
	}
	for name, status := range map[string]string{"getent": getentStatus, "groupadd": "0", "useradd": "0", "systemctl": "0"} {
		body := "#!/bin/sh\necho \"" + name + " $*\" >> '" + logFile + "'\nexit " + status + "\n"
		if err := os.WriteFile(filepath.Join(stubs, name), []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("/bin/sh", append([]string{script}, args...)...)
	cmd.Env = []string{"PATH=" + stubs}
	b, err := cmd.CombinedOutput()
	data, _ := os.ReadFile(logFile)
	return string(data), string(b), err
}

// postinstall creates the system group and user (no shell, no home) on a first install
// and on an upgrade where they are missing, for dpkg's and rpm's arguments alike, and
// leaves existing ones alone. (Its systemctl calls need a running systemd: not here.)
func TestPostinstallCreatesUser(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("systemd runs here: the script would call systemctl (stubbed, but this test checks the user part only)")
	}
	dir := generate(t, "demo")
	script := filepath.Join(dir, "packaging", "postinstall.sh")
	for _, args := range [][]string{{"configure", ""}, {"configure", "0.1.0"}, {"1"}, {"2"}} {
		log, out, err := stubbed(t, script, false, args...)
		if err != nil {
			t.Fatalf("postinstall %q: %v\n%s", args, err, out)
		}
		if !strings.Contains(log, "groupadd --system demo\n") {
			t.Errorf("postinstall %q: no system group created; calls:\n%s", args, log)
		}
		if !strings.Contains(log, "useradd --system --gid demo --no-create-home --home-dir /nonexistent --shell ") ||
			!strings.Contains(log, "nologin --comment demo service demo\n") {
			t.Errorf("postinstall %q: no system user without home and shell; calls:\n%s", args, log)
		}
	}
	log, out, err := stubbed(t, script, true, "configure", "")
	if err != nil {
		t.Fatalf("postinstall with an existing user: %v\n%s", err, out)
	}
	if strings.Contains(log, "useradd") || strings.Contains(log, "groupadd") {
		t.Errorf("postinstall re-created an existing user; calls:\n%s", log)
	}
	// dpkg's abort-* calls must not touch users.
	log, out, err = stubbed(t, script, false, "abort-upgrade", "0.1.0")
	if err != nil || log != "" {
		t.Errorf("postinstall abort-upgrade: err %v, calls %q, output %s", err, log, out)
	}
}
