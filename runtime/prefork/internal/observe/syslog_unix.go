//go:build !windows && !plan9

package observe

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"log/syslog"
	"sync"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// syslogHandler sends each record to syslog (--log-syslog) at the
// priority of its level, formatted like the text log without time and
// level (syslog adds both).
type syslogHandler struct {
	w     *syslog.Writer
	level slog.Leveler
	mu    *sync.Mutex
	buf   *bytes.Buffer
	text  slog.Handler
}

// newSyslogHandler dials --log-syslog-to with --log-syslog-facility and
// the tag --log-syslog-prefix (default: --name, else the program).
func newSyslogHandler(c *settings.Values, level slog.Leveler, defaultTag string) (slog.Handler, error) {
	network, address, err := settings.ParseSyslogAddr(c.SyslogTo)
	if err != nil {
		return nil, fmt.Errorf("prefork: --log-syslog-to %s: %w", c.SyslogTo, err)
	}
	fac, ok := settings.SyslogFacilities[c.SyslogFacility]
	if !ok {
		fac = settings.SyslogFacilities["user"]
	}
	tag := c.SyslogPrefix
	if tag == "" {
		tag = c.Name
	}
	if tag == "" {
		tag = defaultTag
	}
	w, err := syslog.Dial(network, address, syslog.Priority(fac<<3)|syslog.LOG_INFO, tag)
	if err != nil {
		return nil, fmt.Errorf("prefork: --log-syslog-to %s: %w", c.SyslogTo, err)
	}
	buf := new(bytes.Buffer)
	h := &syslogHandler{w: w, level: level, mu: new(sync.Mutex), buf: buf}
	h.text = slog.NewTextHandler(buf, &slog.HandlerOptions{Level: level, ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
			return slog.Attr{}
		}
		return a
	}})
	return h, nil
}

func (h *syslogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *syslogHandler) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.buf.Reset()
	if err := h.text.Handle(ctx, r); err != nil {
		return err
	}
	msg := string(bytes.TrimRight(h.buf.Bytes(), "\n"))
	switch {
	case r.Level >= settings.LevelCritical:
		return h.w.Crit(msg)
	case r.Level >= slog.LevelError:
		return h.w.Err(msg)
	case r.Level >= slog.LevelWarn:
		return h.w.Warning(msg)
	case r.Level >= slog.LevelInfo:
		return h.w.Info(msg)
	}
	return h.w.Debug(msg)
}

func (h *syslogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.text = h.text.WithAttrs(as)
	return &c
}

func (h *syslogHandler) WithGroup(name string) slog.Handler {
	c := *h
	c.text = h.text.WithGroup(name)
	return &c
}

func (h *syslogHandler) Close() error { return h.w.Close() }
