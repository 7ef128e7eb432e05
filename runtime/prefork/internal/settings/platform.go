package settings

import "fmt"

// The platform variables Gunicorn reads as the defaults of bind and workers (Heroku and
// other platforms set them): the settings table names them on the settings they default.
const (
	EnvPort           = "PORT"
	EnvWebConcurrency = "WEB_CONCURRENCY"
)

// PlatformDefault is a default a platform variable gives a setting: PORT=8080 is bind
// 0.0.0.0:8080.
type PlatformDefault struct {
	Variable, Given string // "PORT", "8080"
	Value           string // the setting's value: "0.0.0.0:8080"
	Key, Flag       string // the setting's config.yaml key and long flag: "bind"
}

// PlatformDefaults lists the platform variables that are set (getenv: os.Getenv), each
// with the default it gives; the setting's rule is its flag's.
func PlatformDefaults(getenv func(string) string) []PlatformDefault {
	var out []PlatformDefault
	for i := range Table {
		s := &Table[i]
		if s.Platform == "" || getenv(s.Platform) == "" {
			continue
		}
		v := getenv(s.Platform)
		p := PlatformDefault{Variable: s.Platform, Given: v, Value: v, Key: s.Key, Flag: s.LongName()}
		if s.Platform == EnvPort {
			p.Value = "0.0.0.0:" + v
		}
		out = append(out, p)
	}
	return out
}

// ApplyPlatformDefaults sets each setting of v a platform variable gives a default and
// v leaves at its zero value (the variable only gives the default: a value set in Go,
// in config/ or by a flag wins). The error names the variable and the rule.
func ApplyPlatformDefaults(v *Values, getenv func(string) string) error {
	for _, p := range PlatformDefaults(getenv) {
		s := ByLong(p.Flag)
		if s.Value(v).String() != s.Value(&Values{}).String() {
			continue
		}
		if err := s.Value(v).Set(p.Value); err != nil {
			return fmt.Errorf("prefork: %s=%q: %s: %w", p.Variable, p.Given, TrimPkg(err), ErrInvalid)
		}
	}
	return nil
}
