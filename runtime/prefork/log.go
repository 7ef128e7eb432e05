package prefork

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
)

// levelCritical is Gunicorn's "critical" level, above slog's Error.
const levelCritical = slog.LevelError + 4

func parseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return slog.LevelDebug, nil
	case "info", "":
		return slog.LevelInfo, nil
	case "warning", "warn":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	case "critical":
		return levelCritical, nil
	}
	return 0, fmt.Errorf("prefork: log-level=%q: must be one of debug, info, warning, error, critical: %w", s, errInvalid)
}

// logging is the runtime's log: the slog.Logger plus, when the runtime built
// it, the reopenable file behind it.
type logging struct {
	*slog.Logger
	out io.Writer // raw output for multi-line blocks (goroutine dumps)
	lf  *logFile  // nil when the user supplied cfg.Logger
	// also are reopened with the log (the access log, certificates)
	also []func() error
}

func newLogging(cfg Config) (*logging, error) {
	if cfg.Logger != nil {
		return &logging{Logger: cfg.Logger, out: os.Stderr}, nil
	}
	lvl, err := parseLevel(cfg.LogLevel)
	if err != nil {
		return nil, err
	}
	lf, err := openLogFile(cfg.ErrorLog, os.Stderr)
	if err != nil {
		return nil, err
	}
	h := slog.NewTextHandler(lf, &slog.HandlerOptions{
		Level: lvl,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey {
				if l, ok := a.Value.Any().(slog.Level); ok && l >= levelCritical {
					a.Value = slog.StringValue("CRITICAL")
				}
			}
			return a
		},
	})
	return &logging{Logger: slog.New(h), out: lf, lf: lf}, nil
}

// followCrashOutput sends the Go runtime's fatal errors and SIGABRT dumps
// to the error log file (a worker's stderr is the master's).
func (l *logging) followCrashOutput() {
	if l.lf == nil {
		return
	}
	if f := l.lf.file(); f != nil {
		debug.SetCrashOutput(f, debug.CrashOptions{})
	}
}

// stderrLogging is the log of last resort, when the configured one cannot
// be built.
func stderrLogging() *logging {
	return &logging{Logger: slog.New(slog.NewTextHandler(os.Stderr, nil)), out: os.Stderr}
}

func (l *logging) reopen() error {
	var errs []error
	if l.lf != nil {
		errs = append(errs, l.lf.Reopen())
	}
	for _, f := range l.also {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}

func (l *logging) close() {
	if l.lf != nil {
		l.lf.Close()
	}
}
