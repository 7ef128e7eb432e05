package prefork

import (
	"os"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// parseModes parses the octal mode settings into c.modes, the one parse each gets (0:
// leave the mode as created).
func (c *Config) parseModes() error {
	for _, m := range []struct {
		name, val string
		p         *os.FileMode
	}{{"umask", c.Umask, &c.modes.umask}, {"bind-mode", c.BindMode, &c.modes.bindMode}, {"control-socket-mode", c.ControlSocketMode, &c.modes.controlSocket}} {
		if m.val == "" {
			continue
		}
		c.modes.umaskSet = c.modes.umaskSet || m.name == "umask"
		v, err := settings.ParseOctalMode(m.name, m.val, 0o777)
		if err != nil {
			return err
		}
		*m.p = os.FileMode(v)
	}
	return nil
}

// reportNoEffect logs, once, each note of the parse (Parsed.NoEffect): a Gunicorn
// setting given that means nothing here; and what part of --http2-cleartext upgrade or
// both Go cannot do.
func reportNoEffect(c Config, notes []string, lg *observe.Log) {
	for _, n := range notes {
		lg.Warn("setting has no effect", "setting", n)
	}
	if settings.H2CUpgradeOn(c.HTTP2Cleartext) {
		lg.Warn("http2_cleartext="+c.HTTP2Cleartext+": "+settings.H2CUpgradeNote, "setting", "--http2-cleartext")
	}
}

// fileModes are Config's octal mode settings as parsed once by withDefaults.
type fileModes struct {
	umask         os.FileMode // --umask, when umaskSet (0 is a umask too)
	umaskSet      bool
	bindMode      os.FileMode // --bind-mode; 0: by umask
	controlSocket os.FileMode // --control-socket-mode
}
