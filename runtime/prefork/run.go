package prefork

import (
	"fmt"
	"io"
	"os"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
)

// Run runs the master, or a worker when started by a master (decided by the
// environment the master sets). The master returns nil after a stop by signal
// and an error when workers fail to boot at start-up (the App's message) or
// the configuration is invalid. With CheckConfig or PrintConfig it returns
// without serving. On systems without descriptor inheritance (not unix) it
// runs Serve instead. In a worker process it returns nil once the worker has
// stopped; a worker whose App fails exits with status 1 from here, the error
// logged in the configured format and reported to the master. notes are
// what the command line's parse noted (Parsed.NoEffect): the master logs
// them once at start-up and --check-config prints them.
func Run(cfg Config, app App, notes ...string) error {
	if isWorker() {
		if err := runWorker(cfg, app); err != nil {
			// logged in the configured format and reported to the master,
			// which says why it failed: nothing more to print
			os.Exit(1)
		}
		return nil
	}
	if !master.PreforkSupported {
		return Serve(cfg, app, notes...) // no descriptor inheritance here: one process
	}
	c, done, err := prepare(cfg, app, notes, printOut)
	if done || err != nil {
		return err
	}
	if c.Daemon && os.Getenv(master.EnvDaemonized) == "" {
		return master.Daemonize() // the detached copy of this command carries on
	}
	os.Unsetenv(master.EnvDaemonized)
	if err := master.SetMasterTitle(c.Values); err != nil {
		return err
	}
	return runMaster(c, notes)
}

// printOut receives Run's and Serve's --print-config and --check-config output
// (a test's buffer in tests).
var printOut io.Writer = os.Stdout

// prepare applies defaults and handles --print-config and --check-config, which
// print to out.
func prepare(cfg Config, app App, notes []string, out io.Writer) (Config, bool, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return c, true, err
	}
	if c.PrintConfig {
		c.printConfig(out)
		return c, true, nil
	}
	if c.CheckConfig {
		for _, n := range notes {
			fmt.Fprintln(out, "warning: "+n)
		}
		if _, err := buildApp(app); err != nil {
			return c, true, fmt.Errorf("prefork: check-config: app: %w", err)
		}
		fmt.Fprintln(out, "configuration OK")
		return c, true, nil
	}
	if err := master.ApplyProcessSettings(c.Values); err != nil {
		return c, true, err
	}
	return c, false, nil
}
