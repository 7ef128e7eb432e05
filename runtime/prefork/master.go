package prefork

import (
	"log/slog"
	"net"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// The glue between Config and the master's shell (internal/master), which
// takes its own configuration type.

// runMaster runs the master's shell with c, defaulted and checked.
func runMaster(c Config, notes []string) error { return master.Run(masterConfig(c), notes) }

// masterConfig is c as the master's shell takes it: its settings, its parsed
// modes and the hooks the master calls. Reload, when set, is wrapped: the
// program's Reload, then its defaults and checks, then the hooks it leaves
// unset kept from c (Hooks.keeping).
func masterConfig(c Config) master.Config {
	h := c.Hooks
	mc := master.Config{Values: c.Values, Modes: c.modes, Hooks: master.Hooks{
		Logger: h.Logger, OnStarting: h.OnStarting, WhenReady: h.WhenReady, PreFork: h.PreFork, ChildExit: h.ChildExit,
		OnReload: h.OnReload, NWorkersChanged: h.NWorkersChanged, OnExit: h.OnExit,
	}}
	if h.Reload != nil {
		mc.Reload = func() (master.Config, error) {
			nc, err := h.Reload()
			if err == nil {
				nc, err = nc.withDefaults()
			}
			if err != nil {
				return master.Config{}, err
			}
			nc.Hooks = nc.Hooks.keeping(h)
			return masterConfig(nc), nil
		}
	}
	return mc
}

// serveProcessMetrics serves --metrics-bind from Serve's single process
// (master.ServeProcessMetrics) with sp's request metrics; nil when
// MetricsBind is not set or sp counts none.
func serveProcessMetrics(c Config, sp *serving.ServingProc, lns []net.Listener, names []string, lg *slog.Logger) (*serving.SideServer, error) {
	if sp.Metrics() == nil {
		return nil, nil
	}
	return master.ServeProcessMetrics(c.Values, sp.Metrics().Snapshot, lns, names, lg)
}
