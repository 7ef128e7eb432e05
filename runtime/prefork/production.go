package prefork

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// DefaultUpgradeTimeout is how long a new master started by USR2 has to
// report ready before it is killed and the old master carries on.
const DefaultUpgradeTimeout = 60 * time.Second

// productionDefaults applies the defaults of the production settings and
// validates them (called by withDefaults).
func (c *Config) productionDefaults() error {
	if c.AccessLogFormat == "" {
		c.AccessLogFormat = observe.DefaultAccessLogFormat
	}
	if c.UpgradeTimeout == 0 {
		c.UpgradeTimeout = DefaultUpgradeTimeout
	}
	c.canaryDefaults()
	if err := c.metricsDefaults(); err != nil {
		return err
	}
	bad := func(name string, v any, rule string) error {
		return fmt.Errorf("prefork: %s=%v: %s: %w", name, v, rule, settings.ErrInvalid)
	}
	if _, err := observe.NewAccessLogTo(io.Discard, c.AccessLogFormat); err != nil {
		return err
	}
	if c.MaxWorkerMemory < 0 {
		return bad("max-worker-memory", c.MaxWorkerMemory, "must not be negative")
	}
	if c.UpgradeTimeout < 0 {
		return bad("upgrade-timeout", c.UpgradeTimeout, "must be positive")
	}
	if c.CertFile != "" || c.KeyFile != "" {
		if _, err := serving.NewCertReloader(c.CertFile, c.KeyFile); err != nil {
			return err
		}
	}
	if c.HealthBind != "" {
		a, err := settings.ParseAddr(c.HealthBind)
		if err != nil {
			return fmt.Errorf("prefork: health-bind: %w", errors.Unwrap(err))
		}
		if a.Network == "fd" {
			return bad("health-bind", c.HealthBind, "must be host:port or unix:/path")
		}
	}
	if c.BindGroup != "" {
		if _, err := lookupGroupID(c.BindGroup); err != nil {
			return fmt.Errorf("prefork: --bind-group %s: %w", c.BindGroup, err)
		}
	}
	if _, err := lookupCredentials(c.User, c.Group); err != nil {
		return err
	}
	return nil
}

// prepareLogFile creates path (unless "-" or empty) and gives it to the
// user the processes will run as, so a worker that dropped privileges can
// still open it, as Gunicorn's workers inherit theirs.
func prepareLogFile(path string, cr *credentials) error {
	if path == "" || path == "-" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("prefork: log file: %w", err)
	}
	defer f.Close()
	if cr.needsChange() {
		if err := f.Chown(int(cr.UID), int(cr.GID)); err != nil {
			return fmt.Errorf("prefork: log file %s: chown to %s: %w", path, cr, err)
		}
	}
	return nil
}

// applyUmask sets --umask for the whole process (before anything is bound or created),
// as parseModes parsed it.
func applyUmask(c Config) {
	if c.modes.umaskSet {
		setUmask(int(c.modes.umask))
	}
}
