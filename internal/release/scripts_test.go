package release

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// The package's maintainer scripts are clean POSIX sh for shellcheck.
func TestPackageScriptsShellcheck(t *testing.T) {
	shellcheck := testenv.Tool(t, "shellcheck")
	dir := generate(t, "demo")
	scripts, _ := filepath.Glob(filepath.Join(dir, "packaging", "*.sh"))
	if len(scripts) != 3 {
		t.Fatalf("packaging/ has %v, want postinstall.sh, preremove.sh, postremove.sh", scripts)
	}
	run(t, dir, shellcheck, append([]string{"--shell=sh", "--severity=style"}, scripts...)...)
}

// stubbed runs a generated maintainer script with every command it may call replaced by a
// stub that logs its arguments: PATH holds only the stubs, so a real useradd or systemctl
// can never run here. getentFound says whether the user and group already exist; systemd
// whether the script's test for a running systemd (/run/systemd/system) succeeds: the
// script runs as a copy with that path moved to a folder that exists, or does not.
func stubbed(t *testing.T, script string, getentFound, systemd bool, args ...string) (log string, out string, err error) {
	t.Helper()
	stubs := t.TempDir()
	src, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(src, []byte(" /run/systemd/system ")) {
		t.Fatalf("%s does not test for /run/systemd/system: update this test", script)
	}
	runDir := filepath.Join(stubs, "no-systemd")
	if systemd {
		runDir = stubs
	}
	script = filepath.Join(stubs, filepath.Base(script))
	if err := os.WriteFile(script, bytes.ReplaceAll(src, []byte(" /run/systemd/system "), []byte(" "+runDir+" ")), 0o644); err != nil {
		t.Fatal(err)
	}
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
// leaves existing ones alone; where systemd runs it enables and starts the units on an
// install and restarts the service on an upgrade.
func TestPostinstall(t *testing.T) {
	dir := generate(t, "demo")
	script := filepath.Join(dir, "packaging", "postinstall.sh")
	for _, tc := range []struct {
		args             []string
		install, systemd bool
	}{
		{[]string{"configure", ""}, true, true},
		{[]string{"configure", "0.1.0"}, false, true},
		{[]string{"1"}, true, true},
		{[]string{"2"}, false, true},
		{[]string{"configure", ""}, true, false},
		{[]string{"2"}, false, false},
	} {
		log, out, err := stubbed(t, script, false, tc.systemd, tc.args...)
		if err != nil {
			t.Fatalf("postinstall %q: %v\n%s", tc.args, err, out)
		}
		if !strings.Contains(log, "groupadd --system demo\n") {
			t.Errorf("postinstall %q: no system group created; calls:\n%s", tc.args, log)
		}
		if !strings.Contains(log, "useradd --system --gid demo --no-create-home --home-dir /nonexistent --shell ") ||
			!strings.Contains(log, "nologin --comment demo service demo\n") {
			t.Errorf("postinstall %q: no system user without home and shell; calls:\n%s", tc.args, log)
		}
		var want []string
		switch {
		case !tc.systemd:
		case tc.install:
			want = []string{"systemctl daemon-reload", "systemctl enable demo.socket demo.service", "systemctl start demo.socket demo.service"}
		default:
			want = []string{"systemctl daemon-reload", "systemctl try-restart demo.service"}
		}
		if got := systemctlCalls(log); !slices.Equal(got, want) {
			t.Errorf("postinstall %q: systemctl calls %q, want %q", tc.args, got, want)
		}
	}
	log, out, err := stubbed(t, script, true, true, "configure", "")
	if err != nil {
		t.Fatalf("postinstall with an existing user: %v\n%s", err, out)
	}
	if strings.Contains(log, "useradd") || strings.Contains(log, "groupadd") || !strings.Contains(log, "systemctl enable") {
		t.Errorf("postinstall with an existing user: want no user created and the units enabled; calls:\n%s", log)
	}
	// dpkg's abort-* calls must change nothing.
	log, out, err = stubbed(t, script, false, true, "abort-upgrade", "0.1.0")
	if err != nil || log != "" {
		t.Errorf("postinstall abort-upgrade: err %v, calls %q, output %s", err, log, out)
	}
}

// preremove stops and disables the units on removal only, never on an upgrade (when the
// new version's postinstall restarts the service instead).
func TestPreremove(t *testing.T) {
	dir := generate(t, "demo")
	script := filepath.Join(dir, "packaging", "preremove.sh")
	for _, tc := range []struct {
		args            []string
		remove, systemd bool
	}{
		{[]string{"remove"}, true, true},
		{[]string{"0"}, true, true},
		{[]string{"upgrade", "0.2.0"}, false, true},
		{[]string{"1"}, false, true},
		{[]string{"remove"}, true, false},
	} {
		log, out, err := stubbed(t, script, true, tc.systemd, tc.args...)
		if err != nil {
			t.Fatalf("preremove %q: %v\n%s", tc.args, err, out)
		}
		var want []string
		if tc.remove && tc.systemd {
			want = []string{"systemctl stop demo.service demo.socket", "systemctl disable demo.service demo.socket"}
		}
		if got := systemctlCalls(log); !slices.Equal(got, want) {
			t.Errorf("preremove %q: systemctl calls %q, want %q", tc.args, got, want)
		}
	}
}

func systemctlCalls(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "systemctl ") {
			out = append(out, line)
		}
	}
	return out
}
