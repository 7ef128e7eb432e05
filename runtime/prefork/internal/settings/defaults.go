package settings

import (
	"fmt"
	"runtime"
	"time"
)

// Defaults of the core settings, as prefork.Config documents them.
const (
	DefaultTimeout               = 30 * time.Second
	DefaultGracefulTimeout       = 30 * time.Second
	DefaultKeepAlive             = 5 * time.Second
	DefaultReadHeaderTimeout     = 10 * time.Second
	DefaultLimitRequestLine      = 4094
	DefaultLimitRequestFields    = 100
	DefaultLimitRequestFieldSize = 8190
	DefaultBind                  = "127.0.0.1:8000"
)

// Defaults sets each zero core setting of v to its default: the listen
// address, the worker count (GOMAXPROCS), the timeouts, the request limits,
// the error log and its level, and the trusted front ends. The platform
// variables, the Gunicorn settings' defaults (GunicornDefaults) and the
// checks come apart.
func Defaults(v *Values) {
	if len(v.Bind) == 0 {
		v.Bind = []string{DefaultBind}
	}
	orDefault(&v.Workers, runtime.GOMAXPROCS(0))
	orDefault(&v.Timeout, DefaultTimeout)
	orDefault(&v.GracefulTimeout, DefaultGracefulTimeout)
	orDefault(&v.KeepAlive, DefaultKeepAlive)
	if v.ReadHeaderTimeout == 0 {
		v.ReadHeaderTimeout = DefaultReadHeaderTimeout
		if v.Timeout > 0 && v.Timeout < v.ReadHeaderTimeout {
			v.ReadHeaderTimeout = v.Timeout
		}
	}
	orDefault(&v.LimitRequestLine, DefaultLimitRequestLine)
	orDefault(&v.LimitRequestFields, DefaultLimitRequestFields)
	orDefault(&v.LimitRequestFieldSize, DefaultLimitRequestFieldSize)
	orDefault(&v.ErrorLog, "-")
	orDefault(&v.LogLevel, "info")
	orDefault(&v.ForwardedAllowIPs, DefaultForwardedAllowIPs)
}

// orDefault sets *p to def when it is the zero value (net/http's rule: zero
// means the documented default).
func orDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Check checks the core settings of v, defaults applied, that no flag's own rule
// covers: the listen addresses, the request counts, the log format and level. The
// error names the first invalid setting.
func Check(c *Values) error {
	bad := func(name string, v any, rule string) error {
		return fmt.Errorf("prefork: %s=%v: %s: %w", name, v, rule, ErrInvalid)
	}
	for _, a := range c.Bind {
		if _, err := ParseAddr(a); err != nil {
			return err
		}
	}
	if c.MaxRequests < 0 {
		return bad("max-requests", c.MaxRequests, "must not be negative")
	}
	if c.MaxRequestsJitter < 0 {
		return bad("max-requests-jitter", c.MaxRequestsJitter, "must not be negative")
	}
	if f := c.LogFormat; f != "" && f != "text" && f != "json" {
		return bad("log-format", f, "must be text or json")
	}
	if _, err := ParseLogLevel(c.LogLevel); err != nil {
		return err
	}
	return nil
}
