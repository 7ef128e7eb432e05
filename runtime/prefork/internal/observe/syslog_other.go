//go:build windows || plan9

package observe

import (
	"errors"
	"log/slog"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

func newSyslogHandler(*settings.Values, slog.Leveler, string) (slog.Handler, error) {
	return nil, errors.New("prefork: --log-syslog: syslog is not available on this system")
}
