package settings

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// LevelCritical is Gunicorn's "critical" level, above slog's Error.
const LevelCritical = slog.LevelError + 4

// ParseLogLevel is ParseLevel with the error naming the setting.
func ParseLogLevel(s string) (slog.Level, error) {
	l, err := ParseLevel(s)
	if err != nil {
		return 0, fmt.Errorf("prefork: log-level=%q: %v: %w", s, err, ErrInvalid)
	}
	return l, nil
}

// ParseLevel is the one parser of log levels, for flags and for the configuration
// engine (the error states the rule only): debug, info, warning (or warn), error, critical, in any case; "" is info.
func ParseLevel(s string) (slog.Level, error) {
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
		return LevelCritical, nil
	}
	return 0, errors.New("must be one of debug, info, warning, error, critical")
}
