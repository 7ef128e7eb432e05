package observe

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// Log is the runtime's log: the slog.Logger plus, when the runtime built
// it, the reopenable file behind it.
type Log struct {
	*slog.Logger
	Out io.Writer // raw output for multi-line blocks (goroutine dumps)
	lf  *LogFile  // nil when the program supplied its own Logger
	// Also are reopened with the log (the access log, certificates)
	Also []func() error
	// closers are closed with the log (the syslog connection)
	closers []io.Closer
}

// NewLog builds the log the settings describe (error log, level, format,
// syslog), or wraps user, the program's own Logger, when it is not nil.
func NewLog(cfg *settings.Values, user *slog.Logger) (*Log, error) {
	if user != nil {
		return &Log{Logger: user, Out: os.Stderr}, nil
	}
	lvl, err := settings.ParseLogLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	lf, err := OpenLogFile(cfg.ErrorLog, os.Stderr)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{
		Level: lvl,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey {
				if l, ok := a.Value.Any().(slog.Level); ok && l >= settings.LevelCritical {
					a.Value = slog.StringValue("CRITICAL")
				}
			}
			return a
		},
	}
	var h slog.Handler = slog.NewTextHandler(lf, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(lf, opts)
	}
	lg := &Log{Logger: slog.New(h), Out: lf, lf: lf}
	if cfg.Syslog {
		sh, err := newSyslogHandler(cfg, lvl, filepath.Base(os.Args[0]))
		if err != nil {
			lf.Close()
			return nil, err
		}
		lg.Logger = slog.New(fanoutHandler{h, sh})
		if c, ok := sh.(io.Closer); ok {
			lg.closers = append(lg.closers, c)
		}
	}
	return lg, nil
}

// fanoutHandler sends each record to every handler (error log and syslog).
type fanoutHandler []slog.Handler

func (f fanoutHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range f {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (f fanoutHandler) Handle(ctx context.Context, r slog.Record) error {
	var errs []error
	for _, h := range f {
		if h.Enabled(ctx, r.Level) {
			errs = append(errs, h.Handle(ctx, r.Clone()))
		}
	}
	return errors.Join(errs...)
}

func (f fanoutHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(fanoutHandler, len(f))
	for i, h := range f {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (f fanoutHandler) WithGroup(name string) slog.Handler {
	out := make(fanoutHandler, len(f))
	for i, h := range f {
		out[i] = h.WithGroup(name)
	}
	return out
}

// FollowCrashOutput sends the Go runtime's fatal errors and SIGABRT dumps
// to the error log file (a worker's stderr is the master's).
func (l *Log) FollowCrashOutput() {
	if l.lf == nil {
		return
	}
	if f := l.lf.File(); f != nil {
		debug.SetCrashOutput(f, debug.CrashOptions{})
	}
}

// StderrLog is the log of last resort, when the configured one cannot be
// built.
func StderrLog() *Log {
	return &Log{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), Out: os.Stderr}
}

// DiscardLog is a Log that writes lines to h and raw output nowhere (tests).
func DiscardLog(h slog.Handler) *Log { return &Log{Logger: slog.New(h), Out: io.Discard} }

// Reopen reopens the log file and everything in Also (USR1).
func (l *Log) Reopen() error {
	var errs []error
	if l.lf != nil {
		errs = append(errs, l.lf.Reopen())
	}
	for _, f := range l.Also {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}

// Close closes the log file and the syslog connection.
func (l *Log) Close() {
	if l.lf != nil {
		l.lf.Close()
	}
	for _, c := range l.closers {
		c.Close()
	}
}
