package deploy

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// secretMark is the password the secret tests put in database.dsn, to look for: the test
// server trusts its socket and never asks for it.
const secretMark = "s3cret"

// withPassword is the test server's DSN with secretMark as the password.
func withPassword(t *testing.T, pg *testenv.Postgres) string {
	t.Helper()
	dsn := strings.Replace(pg.DSN(), "://postgres@", "://postgres:"+secretMark+"@", 1)
	if dsn == pg.DSN() {
		t.Fatalf("no user in %s to give a password", pg.DSN())
	}
	return dsn
}

// checkSecretHidden asserts that the DSN given as a file reached the app and went nowhere
// else: not in the environment of the master or of any of its workers (/proc/PID/environ),
// not in --print-config (which names where the value came from: from), not in the logs
// (which show it masked).
func checkSecretHidden(t *testing.T, master, workers int, printConfig, from, logs string) {
	t.Helper()
	pids := append([]int{master}, childrenOf(master)...)
	if len(pids) != 1+workers {
		t.Errorf("master and workers %v, want %d processes", pids, 1+workers)
	}
	for _, pid := range pids {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), secretMark) {
			t.Errorf("process %d has the password in its environment", pid)
		}
	}
	if strings.Contains(printConfig, secretMark) || !strings.Contains(printConfig, from) {
		t.Errorf("--print-config shows the password, or not %q:\n%s", from, printConfig)
	}
	if strings.Contains(logs, secretMark) || !strings.Contains(logs, "postgres:xxxxx@") {
		t.Errorf("the log shows the password, or not the DSN masked:\n%s", logs)
	}
}

// TestSystemdCredentialFile runs a PostgreSQL project's binary the way systemd would give
// it database.dsn: a stand-in takes the credential's name and source from the unit's own
// LoadCredential= line, copies the source (under the test's folder standing for the host's
// /) into a private credentials folder under that name, and starts the app with the unit's
// Environment= and $CREDENTIALS_DIRECTORY. The app reaches the database with it; the
// password is in no process's environment, --print-config or log.
func TestSystemdCredentialFile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a project and starts PostgreSQL")
	}
	testenv.Tool(t, "go")
	pg := testenv.StartPostgres(t, "demo")
	dir := newProjectWith(t, project.Options{Name: "demo", Database: state.DatabasePostgres})
	// A remote server in config/, no password there: the unit loads the DSN as a credential.
	replace(t, filepath.Join(dir, "config", "config.yaml"), "dsn: postgres:///demo?host=/var/run/postgresql", "dsn: postgres://demo@db.example.com/demo")
	// LogsDirectory= of the unit: a folder of the test's own instead of /var/log/demo.
	logDir := filepath.Join(t.TempDir(), "log")
	if err := os.Mkdir(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	gen, err := Generate(dir, Options{Targets: []string{"systemd"}, LogDir: logDir})
	if err != nil {
		t.Fatal(err)
	}
	unit, _ := gen.Files.Get("systemd/demo.service")
	creds := unitValues(unit.Data, "LoadCredential")
	if len(creds) != 1 {
		t.Fatalf("demo.service LoadCredential=%v, want one\n%s", creds, unit.Data)
	}
	name, source, ok := strings.Cut(creds[0], ":")
	if !ok || name != "database.dsn" || !filepath.IsAbs(source) {
		t.Fatalf("LoadCredential=%s: want database.dsn:/absolute/source", creds[0])
	}
	host := t.TempDir()
	writeFile(t, filepath.Join(host, source), withPassword(t, pg)+"\n")
	// systemd's copy: a folder only the service reads, the file named after the credential.
	credDir := filepath.Join(t.TempDir(), "credentials")
	if err := os.Mkdir(credDir, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(host, source))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(credDir, name), data, 0o400); err != nil {
		t.Fatal(err)
	}

	bin := filepath.Join(t.TempDir(), "demo")
	build := testenv.OfflineGoEnv()
	if out, err := runIn(dir, build, "go", "build", "-o", bin, "./wsgi"); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(append(os.Environ(), unitValues(unit.Data, "Environment")...), "CREDENTIALS_DIRECTORY="+credDir,
		// The source tree stands in for the installed package: its static files, no
		// RuntimeDirectory= for the control socket.
		"APP_APP_STATIC_DIR=web/static", "APP_SERVER_CONTROL_SOCKET=")
	port := testenv.FreePort(t)
	const workers = 2
	d := startDaemonIn(t, dir, env, bin, "-c", filepath.Join(dir, "config"), "-b", "127.0.0.1:"+strconv.Itoa(port), "-w", strconv.Itoa(workers))
	t.Cleanup(func() { d.stop(10 * time.Second) })
	// The app's own /readyz pings the database: 200 means the credential's DSN works.
	waitFor(t, "the app's /readyz (the database reached)", time.Now().Add(time.Minute), func() error {
		return wantStatus("http://127.0.0.1:"+strconv.Itoa(port)+"/readyz", 200)
	})
	printed, err := runIn(dir, env, bin, "-c", filepath.Join(dir, "config"), "--print-config")
	if err != nil {
		t.Fatalf("--print-config: %v\n%s", err, printed)
	}
	// The logs: what the unit's APP_LOGGING_OUTPUT and access log write, and the journal's share.
	logs := d.out.String()
	files, _ := filepath.Glob(filepath.Join(logDir, "*"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		logs += string(data)
	}
	checkSecretHidden(t, d.cmd.Process.Pid, workers, printed, "# credential database.dsn", logs)
}

// runIn runs a command in dir with env and returns its combined output.
func runIn(dir string, env []string, name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir, cmd.Env = dir, env
	out, err := cmd.CombinedOutput()
	return string(out), err
}
