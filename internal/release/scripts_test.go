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

// The package's maintainer scripts (the .rpm's, the .deb's) and package-docs.sh are clean
// POSIX sh for shellcheck.
func TestPackageScriptsShellcheck(t *testing.T) {
	shellcheck := testenv.Tool(t, "shellcheck")
	dir := generate(t, "demo")
	scripts, _ := filepath.Glob(filepath.Join(dir, "packaging", "*.sh"))
	debScripts, _ := filepath.Glob(filepath.Join(dir, "packaging", "deb", "*"))
	scripts = append(scripts, debScripts...)
	if len(scripts) != 7 {
		t.Fatalf("packaging/ has %v, want package-docs.sh, postinstall.sh, preremove.sh, postremove.sh and deb/postinst, prerm, postrm", scripts)
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
	for name, status := range map[string]string{"getent": getentStatus, "groupadd": "0", "useradd": "0", "systemctl": "0", "deb-systemd-helper": "0", "deb-systemd-invoke": "0"} {
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
// and on an upgrade where they are missing, for dpkg's postinst and rpm's %post alike,
// and leaves existing ones alone. The .rpm's enables and starts the units with systemctl
// where systemd runs on an install and restarts the service on an upgrade; the .deb's does
// what dh_installsystemd's snippets do: deb-systemd-helper records the enablement even
// without a running systemd, deb-systemd-invoke starts or restarts where it runs.
func TestPostinstall(t *testing.T) {
	dir := generate(t, "demo")
	rpmScript := filepath.Join(dir, "packaging", "postinstall.sh")
	debScript := filepath.Join(dir, "packaging", "deb", "postinst")
	helperEnable := []string{
		"deb-systemd-helper unmask demo.socket", "deb-systemd-helper --quiet was-enabled demo.socket", "deb-systemd-helper enable demo.socket",
		"deb-systemd-helper unmask demo.service", "deb-systemd-helper --quiet was-enabled demo.service", "deb-systemd-helper enable demo.service",
	}
	for _, tc := range []struct {
		script           string
		args             []string
		install, systemd bool
	}{
		{debScript, []string{"configure", ""}, true, true},
		{debScript, []string{"configure", "0.1.0"}, false, true},
		{rpmScript, []string{"1"}, true, true},
		{rpmScript, []string{"2"}, false, true},
		{debScript, []string{"configure", ""}, true, false},
		{rpmScript, []string{"2"}, false, false},
	} {
		deb := tc.script == debScript
		log, out, err := stubbed(t, tc.script, false, tc.systemd, tc.args...)
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
		case deb:
			want = helperEnable
			if tc.systemd && tc.install {
				want = append(want, "systemctl --system daemon-reload", "deb-systemd-invoke start demo.socket demo.service")
			} else if tc.systemd {
				want = append(want, "systemctl --system daemon-reload", "deb-systemd-invoke restart demo.service")
			}
		case !tc.systemd:
		case tc.install:
			want = []string{"systemctl daemon-reload", "systemctl enable demo.socket demo.service", "systemctl start demo.socket demo.service"}
		default:
			want = []string{"systemctl daemon-reload", "systemctl try-restart demo.service"}
		}
		if got := systemdCalls(log); !slices.Equal(got, want) {
			t.Errorf("%s %q: systemd calls %q, want %q", filepath.Base(tc.script), tc.args, got, want)
		}
		if deb && (strings.Contains(log, "systemctl enable") || strings.Contains(log, "systemctl start")) {
			t.Errorf("postinst %q calls systemctl where deb-systemd-helper or -invoke belongs:\n%s", tc.args, log)
		}
	}
	for _, script := range []string{rpmScript, debScript} {
		args := []string{"1"}
		if script == debScript {
			args = []string{"configure", ""}
		}
		log, out, err := stubbed(t, script, true, true, args...)
		if err != nil {
			t.Fatalf("%s with an existing user: %v\n%s", filepath.Base(script), err, out)
		}
		if strings.Contains(log, "useradd") || strings.Contains(log, "groupadd") || !strings.Contains(log, " enable demo.s") {
			t.Errorf("%s with an existing user: want no user created and the units enabled; calls:\n%s", filepath.Base(script), log)
		}
	}
	// dpkg's abort-* calls must change nothing.
	log, out, err := stubbed(t, debScript, false, true, "abort-upgrade", "0.1.0")
	if err != nil || log != "" {
		t.Errorf("postinstall abort-upgrade: err %v, calls %q, output %s", err, log, out)
	}
}

// preremove stops the units on removal only, never on an upgrade (when the new version's
// postinstall restarts the service instead): the .rpm's disables them too, the .deb's
// leaves that to postrm, as dh_installsystemd does.
func TestPreremove(t *testing.T) {
	dir := generate(t, "demo")
	rpmScript := filepath.Join(dir, "packaging", "preremove.sh")
	debScript := filepath.Join(dir, "packaging", "deb", "prerm")
	for _, tc := range []struct {
		script  string
		args    []string
		systemd bool
		want    []string
	}{
		{debScript, []string{"remove"}, true, []string{"deb-systemd-invoke stop demo.service demo.socket"}},
		{rpmScript, []string{"0"}, true, []string{"systemctl stop demo.service demo.socket", "systemctl disable demo.service demo.socket"}},
		{debScript, []string{"upgrade", "0.2.0"}, true, nil},
		{rpmScript, []string{"1"}, true, nil},
		{debScript, []string{"remove"}, false, nil},
	} {
		log, out, err := stubbed(t, tc.script, true, tc.systemd, tc.args...)
		if err != nil {
			t.Fatalf("%s %q: %v\n%s", filepath.Base(tc.script), tc.args, err, out)
		}
		if got := systemdCalls(log); !slices.Equal(got, tc.want) {
			t.Errorf("%s %q: systemd calls %q, want %q", filepath.Base(tc.script), tc.args, got, tc.want)
		}
	}
}

// The .deb's postrm, as dh_installsystemd's: systemd reloaded on remove where it runs; the
// units masked on remove and forgotten on purge, only while deb-systemd-helper is there.
func TestDebPostrm(t *testing.T) {
	dir := generate(t, "demo")
	script := filepath.Join(dir, "packaging", "deb", "postrm")
	for _, tc := range []struct {
		args    []string
		systemd bool
		want    []string
	}{
		{[]string{"remove"}, true, []string{"systemctl --system daemon-reload", "deb-systemd-helper mask demo.socket demo.service"}},
		{[]string{"remove"}, false, []string{"deb-systemd-helper mask demo.socket demo.service"}},
		{[]string{"purge"}, false, []string{"deb-systemd-helper purge demo.socket demo.service", "deb-systemd-helper unmask demo.socket demo.service"}},
		{[]string{"upgrade", "0.2.0"}, true, nil},
	} {
		log, out, err := stubbed(t, script, true, tc.systemd, tc.args...)
		if err != nil {
			t.Fatalf("postrm %q: %v\n%s", tc.args, err, out)
		}
		if got := systemdCalls(log); !slices.Equal(got, tc.want) {
			t.Errorf("postrm %q: systemd calls %q, want %q", tc.args, got, tc.want)
		}
	}
}

// systemdCalls are the calls to systemctl, deb-systemd-helper and deb-systemd-invoke in a
// stub log, in order.
func systemdCalls(log string) []string {
	var out []string
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "systemctl ") || strings.HasPrefix(line, "deb-systemd-") {
			out = append(out, line)
		}
	}
	return out
}
