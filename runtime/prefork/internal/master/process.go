package master

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// Process-wide settings: --chdir, -e/--env, -D/--daemon, -n/--name.

// envArgv carries a process's real arguments when its argv is a title
// (-n/--name): ps shows only "NAME: master" or "NAME: worker 3 [gen 2]",
// and init below restores os.Args before main reads them.
const envArgv = "PREFORK_ARGV"

// envTitled marks the master re-executed with its title.
const envTitled = "PREFORK_TITLED"

// EnvDaemonized marks the detached copy started by --daemon (Run unsets it).
const EnvDaemonized = "PREFORK_DAEMONIZED"

func init() {
	js, ok := os.LookupEnv(envArgv)
	if !ok {
		return
	}
	os.Unsetenv(envArgv)
	var args []string
	if err := json.Unmarshal([]byte(js), &args); err == nil && len(args) > 0 {
		os.Args = args
	}
}

// ApplyProcessSettings changes directory (--chdir) and sets -e/--env in the
// master before it starts anything; workers inherit both.
func ApplyProcessSettings(c settings.Values) error {
	if c.Chdir != "" {
		if err := os.Chdir(c.Chdir); err != nil {
			return fmt.Errorf("prefork: --chdir %s: %w", c.Chdir, err)
		}
	}
	for _, kv := range c.Env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("prefork: --env %s: %w", kv, err)
		}
	}
	return nil
}

// titledArgs returns the argv of a process titled title, and the
// environment entry that carries its real arguments.
func titledArgs(title string, args []string) ([]string, string) {
	js, _ := json.Marshal(args)
	return []string{title}, envArgv + "=" + string(js)
}

// SetMasterTitle re-executes the master in place (same pid) with argv
// "NAME: master" when -n/--name is given and it is not titled yet.
func SetMasterTitle(c settings.Values) error {
	if os.Getenv(envTitled) != "" { // this is the re-executed master
		os.Unsetenv(envTitled)
		return nil
	}
	if c.Name == "" || !PreforkSupported {
		return nil
	}
	title := c.Name + ": master"
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("prefork: --name: %w", err)
	}
	argv, envEntry := titledArgs(title, os.Args)
	env := append(os.Environ(), envEntry, envTitled+"=1")
	if err := syscall.Exec(exe, argv, env); err != nil {
		return fmt.Errorf("prefork: --name: re-exec as %q: %w", title, err)
	}
	return nil // not reached
}

// workerTitle is the argv[0] of a worker under -n/--name.
func workerTitle(name string, w WorkerInfo) string {
	return fmt.Sprintf("%s: worker %d [gen %d]", name, w.ID, w.Generation)
}

// Daemonize starts this command again detached (a new session, stdin and
// stdout on /dev/null, stderr too unless it is the error log's file) and
// returns: the command exits 0 while the detached master serves. --pid
// receives the detached master's pid.
func Daemonize() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("prefork: --daemon: %w", err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("prefork: --daemon: %w", err)
	}
	defer null.Close()
	cmd := exec.Command(exe)
	cmd.Args = os.Args
	cmd.Env = append(os.Environ(), EnvDaemonized+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	cmd.Dir, _ = os.Getwd()
	cmd.SysProcAttr = DaemonAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("prefork: --daemon: start %s: %w", filepath.Base(exe), err)
	}
	return cmd.Process.Release()
}
