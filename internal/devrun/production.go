package devrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/appconfig"
)

// ProductionOptions configure RunProduction. Zero fields take the documented defaults.
type ProductionOptions struct {
	Dir    string    // project directory; default "."
	Args   []string  // passed to the production binary (its gunicorn-style flags)
	Env    []string  // default os.Environ()
	GoCmd  string    // default "go"
	Stdin  io.Reader // default os.Stdin
	Stdout io.Writer // default os.Stdout
	Stderr io.Writer // default os.Stderr
	Color  bool
	// Started, when set, is called with the production master's pid once it runs.
	Started func(pid int)
}

// RunProduction builds the production entry (./wsgi) into a temporary directory and runs
// it in the foreground in production mode, forwarding signals to it, until it exits. It
// returns the binary's exit code; err is set when it could not be built or started.
// Cancelling ctx sends TERM (a graceful stop) unless a signal was just forwarded.
func RunProduction(ctx context.Context, o ProductionOptions) (int, error) {
	if o.Dir == "" {
		o.Dir = "."
	}
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.GoCmd == "" {
		o.GoCmd = "go"
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	dir, err := filepath.Abs(o.Dir)
	if err != nil {
		return 1, fmt.Errorf("project folder: %w", err)
	}
	if err := checkEntry(dir, "wsgi"); err != nil {
		return 1, err
	}
	tmp, err := os.MkdirTemp("", "scaffold-run-")
	if err != nil {
		return 1, fmt.Errorf("temporary build folder: %w", err)
	}
	defer os.RemoveAll(tmp)
	// The binary is named after the project: workers and `ps` show that name.
	bin := filepath.Join(tmp, filepath.Base(dir))
	fmt.Fprintf(o.Stderr, "scaffold run: building ./wsgi\n")
	start := time.Now()
	if out, err := goBuild(ctx, o.GoCmd, dir, "./wsgi", bin, nil, o.Env); err != nil {
		fmt.Fprintf(o.Stderr, "scaffold run: build failed (%v):\n%s", err, formatBuildOutput(out, o.Color))
		return 1, fmt.Errorf("go build ./wsgi failed")
	}
	fmt.Fprintf(o.Stderr, "scaffold run: built in %s; starting in production mode\n", time.Since(start).Round(time.Millisecond))

	env := withSourceTree(cleanEnv(o.Env))
	if !hasEnv(env, "APP_ENV") {
		env = append(env, "APP_ENV=production")
	}
	// From the source tree the entry reads setting.yaml's source_tree section (static files
	// from web/, the control socket in bin/); what it names must exist here.
	settings, err := readProjectSettings(dir, appconfig.ModeProduction, env)
	if err != nil {
		return 1, err
	}
	// The control socket's directory (/run/NAME, or bin/ before a build) is made by systemd,
	// tmpfiles.d or make when installed; when it is missing, use the temporary directory.
	sockDir := filepath.Dir(settings.ControlSocket)
	if !filepath.IsAbs(sockDir) {
		sockDir = filepath.Join(dir, sockDir)
	}
	if settings.ControlSocket != "" && !hasEnv(env, "APP_SERVER_CONTROL_SOCKET") && !isDir(sockDir) {
		local := filepath.Join(tmp, "control.sock")
		env = append(env, "APP_SERVER_CONTROL_SOCKET="+local)
		fmt.Fprintf(o.Stderr, "scaffold run: %s does not exist here; control socket at %s (APP_SERVER_CONTROL_SOCKET)\n", filepath.Dir(settings.ControlSocket), local)
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)

	cmd := exec.Command(bin, o.Args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = o.Stdin
	cmd.Stdout = o.Stdout
	cmd.Stderr = o.Stderr
	// Its own group: a terminal's Ctrl-C reaches the master once, through us.
	cmd.SysProcAttr = groupAttr()
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start %s: %w", bin, err)
	}
	if o.Started != nil {
		o.Started(cmd.Process.Pid)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	cancelled := ctx.Done()
	var lastStop time.Time // when a stopping signal was last forwarded
	forward := func(s os.Signal) {
		cmd.Process.Signal(s)
		if s == syscall.SIGTERM || s == os.Interrupt || s == syscall.SIGQUIT {
			lastStop = time.Now()
		}
	}
	for {
		select {
		case s := <-sigs:
			forward(s)
		case <-cancelled:
			cancelled = nil
			// The context of `scaffold` is cancelled by the same INT/TERM we forward:
			// give that signal a moment to arrive instead of sending a second one.
			select {
			case s := <-sigs:
				forward(s)
			case <-time.After(100 * time.Millisecond):
			}
			if time.Since(lastStop) > time.Second {
				forward(syscall.SIGTERM)
			}
		case err := <-exited:
			// Whatever the master left in its group goes with it.
			signalGroup(cmd.Process.Pid, syscall.SIGKILL)
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), nil
				}
				return ee.ExitCode(), nil
			}
			if err != nil {
				return 1, fmt.Errorf("waiting for the app: %w", err)
			}
			return 0, nil
		}
	}
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
