package prefork

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
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
	return master.CheckCredentials(c.User, c.Group, c.BindGroup)
}
