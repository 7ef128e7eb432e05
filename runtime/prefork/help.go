package prefork

import "github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"

// writeHelp prints -h (settings.WriteHelp), each setting's default the one the
// configuration c holds shows.
func (c *Config) writeHelp(cl CommandLine) {
	own := make([]settings.HelpFlag, len(cl.Flags))
	for i, f := range cl.Flags {
		own[i] = settings.HelpFlag{Flags: f.Flags, Meta: f.Meta, Default: f.Default, Help: f.Help}
	}
	settings.WriteHelp(cl.Output(), cl.Program, EnvCmdArgs, own, c.helpDefaults())
}

// helpDefaults is the default -h shows for a setting: the value c holds (the program's
// configuration, config/ in a generated project) where it differs from the runtime's
// own. read says the setting's platform variable ($PORT) is read: nothing sets it.
func (c *Config) helpDefaults() func(s *settings.Setting) (def string, read bool) {
	eff, effErr := c.withDefaults()
	base, baseErr := Config{}.withDefaultsFrom(func(string) string { return "" })
	return func(s *settings.Setting) (string, bool) {
		def := s.Def
		if def == "" && s.Value != nil && baseErr == nil {
			def = s.Value(&base.Values).String() // the runtime's default, written once (on Config)
		}
		switch {
		case s.Value == nil || s.NoEffect != "":
			return def, false
		case s.Platform != "" && c.SettingValue(s.LongName()) == (Config{}).SettingValue(s.LongName()):
			return def, true
		case s.Platform != "":
			return c.SettingValue(s.LongName()), false
		case effErr != nil || baseErr != nil:
			return def, false
		}
		if v := s.Value(&eff.Values).String(); v != s.Value(&base.Values).String() {
			return v, false
		}
		return def, false
	}
}
