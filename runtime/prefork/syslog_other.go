//go:build windows || plan9

package prefork

import (
	"errors"
	"log/slog"
)

func newSyslogHandler(Config, slog.Leveler, string) (slog.Handler, error) {
	return nil, errors.New("prefork: --log-syslog: syslog is not available on this system")
}
