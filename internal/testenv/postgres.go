package testenv

import (
	"fmt"
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

// PostgresBin is where Debian's postgresql package puts the server's programs.
const PostgresBin = "/usr/lib/postgresql/15/bin"

// Postgres is a PostgreSQL server of a test's own: a fresh cluster in a temp folder that
// listens on a unix socket only (no TCP port), trusting local connections.
type Postgres struct {
	t        testing.TB
	Dir      string // the cluster's folder; the socket is in it too
	data     string
	asUser   []string // runuser prefix when running as root (initdb refuses root)
	pgctl    string
	Database string // a database created for the test
}

// StartPostgres initdbs and starts a server for t, creates database name, and stops the
// server (by its postmaster's pid) when t ends. Without the server's programs the test is
// skipped, or fails under SCAFFOLD_REQUIRE_TOOLS=1.
func StartPostgres(t testing.TB, name string) *Postgres {
	t.Helper()
	initdb := filepath.Join(PostgresBin, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		Tool(t, "initdb", "apt-get install postgresql (the server's programs go to "+PostgresBin+")")
		initdb = lookTool("initdb")
	}
	bin := filepath.Dir(initdb)
	dir, err := os.MkdirTemp("", "scaffold-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p := &Postgres{t: t, Dir: dir, data: filepath.Join(dir, "data"), pgctl: filepath.Join(bin, "pg_ctl"), Database: name}
	if os.Geteuid() == 0 {
		// initdb refuses root: the cluster belongs to the postgres user the package creates.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, the PostgreSQL test needs the postgres user (apt-get install postgresql creates it): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			runuser = "/usr/sbin/runuser" // util-linux; /usr/sbin may be missing from PATH
		}
		p.asUser = []string{runuser, "-u", "postgres", "--"}
	}
	p.run(initdb, "-D", p.data, "-A", "trust", "-U", "postgres", "--no-sync", "--encoding=UTF8", "--no-instructions")
	p.Start()
	t.Cleanup(p.Stop)
	p.run(filepath.Join(bin, "createdb"), "-h", dir, "-U", "postgres", name)
	return p
}

func (p *Postgres) run(name string, args ...string) string {
	p.t.Helper()
	argv := append(append(append([]string(nil), p.asUser...), name), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = p.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// DSN is a URL for the test's database as the postgres superuser over the socket.
func (p *Postgres) DSN() string {
	return fmt.Sprintf("postgres://postgres@/%s?host=%s&sslmode=disable", p.Database, p.Dir)
}

// Start starts the server (again) and waits until it accepts connections.
func (p *Postgres) Start() {
	p.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses='' -c unix_socket_directories=%s -c max_connections=60 -c fsync=off -c synchronous_commit=off", p.Dir)
	p.run(p.pgctl, "-D", p.data, "-l", filepath.Join(p.Dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
}

// Stop stops the server with a fast shutdown (SIGINT to the postmaster, whose pid is the
// first line of postmaster.pid) and waits for it to exit; it does nothing if it is not running.
func (p *Postgres) Stop() {
	data, err := os.ReadFile(filepath.Join(p.data, "postmaster.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(data), "\n", 2)[0]))
	if err != nil || pid <= 1 {
		return
	}
	if syscall.Kill(pid, syscall.SIGINT) != nil {
		return
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}
