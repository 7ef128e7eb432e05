package prefork

import (
	"errors"
	"flag"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// RegisterFlags registers the runtime's Gunicorn-compatible settings (the
// settings table, internal/settings) on fs, bound to c: every flag by its long
// name and its short form. The values already in c are kept when a flag is
// absent. Durations accept plain seconds ("30", "0.5") or Go durations
// ("30s"); as in Gunicorn, 0 turns a timeout or limit off. -c/--config is
// not registered: the program's entry owns it. A Gunicorn command line is
// better parsed with ParseArgs, which reads GUNICORN_CMD_ARGS, prints
// Gunicorn's help and refuses abbreviations. The Parsed returned collects
// the settings given that have no effect, as fs parses (for Run's notes).
func (c *Config) RegisterFlags(fs *flag.FlagSet) *Parsed {
	p := new(Parsed)
	for i := range settings.Table {
		s := &settings.Table[i]
		v := settings.FlagValue(s, &c.Values, p)
		for _, f := range s.Flags {
			usage := s.Help
			if !strings.HasPrefix(f, "--") {
				usage += " (short for --" + s.LongName() + ")"
			}
			fs.Var(v, strings.TrimLeft(f, "-"), usage)
		}
	}
	return p
}

// Parsed is what parsing a command line noted besides the settings it set:
// which settings it gave, and the Gunicorn settings given that mean nothing
// here. It is the parser's state, never part of a Config (which is what
// workers get and a reload replaces): ParseArgs and RegisterFlags return it,
// and its notes go to Run or Serve to report. A nil *Parsed has no notes.
type Parsed = settings.Parsed

// ServerKey ties a key of config.yaml's server section to the setting it sets.
type ServerKey struct {
	Key  string // "keep_alive"
	Flag string // its long flag without dashes: "keep-alive"
}

// ServerKeys lists the settings config.yaml's server section holds, in -h order:
// the section takes its keys from the settings table, and each value passes through
// the setting's one rule (SetSetting), whatever its source.
func ServerKeys() []ServerKey {
	var keys []ServerKey
	for i := range settings.Table {
		if settings.Table[i].Key != "" {
			keys = append(keys, ServerKey{Key: settings.Table[i].Key, Flag: settings.Table[i].LongName()})
		}
	}
	return keys
}

// SetSetting sets the setting with this long flag name ("keep-alive") from values as
// its flag would: the same rule, the same meaning (0 turns a timeout off, 0 is no limit
// for worker_connections, 0 is the default backlog). Several values fill a list
// (bind), replacing it. The error states the rule.
func (c *Config) SetSetting(long string, values ...string) error {
	s := settings.ByLong(long)
	v := settings.FlagValue(s, &c.Values, new(Parsed))
	for _, val := range values {
		if err := v.Set(val); err != nil {
			return errors.New(strings.TrimPrefix(err.Error(), "prefork: "))
		}
	}
	return nil
}

// SettingValue is the value of the setting with this long flag name in its one
// spelling, as --print-config shows it and its flag takes it ("30" seconds, "0" for
// no limit); a list's items are comma-separated.
func (c Config) SettingValue(long string) string {
	return settings.ByLong(long).Value(&c.Values).String()
}

// ServerDefaults is the value of each key of config.yaml's server section when nothing
// sets it, in its setting's one spelling (as SettingValue writes it): the runtime's own
// defaults, without the platform variables (appconfig's Load applies those), but for
// workers: Gunicorn's 1, not the machine's cores, so files derived from a project's
// configuration never depend on where they were made.
func ServerDefaults() map[string]string {
	d, err := Config{Values: Values{Workers: 1}}.withDefaultsFrom(func(string) string { return "" })
	if err != nil {
		panic("prefork: the built-in defaults are invalid: " + err.Error())
	}
	out := map[string]string{}
	for _, k := range ServerKeys() {
		out[k.Key] = d.SettingValue(k.Flag)
	}
	return out
}
