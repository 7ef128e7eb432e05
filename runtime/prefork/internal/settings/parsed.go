package settings

import (
	"errors"
	"flag"
	"slices"
	"strconv"
	"strings"
)

// FlagValue is the flag.Value of a setting for one parse into v: switches
// are boolean flags, and a setting with no effect only records in p that it
// was given.
func FlagValue(s *Setting, v *Values, p *Parsed) flag.Value {
	if s.NoEffect != "" {
		return &noEffectFlag{p: p, s: s}
	}
	return s.Value(v)
}

// Parsed is what parsing a command line noted besides the settings it set:
// which settings it gave, and the Gunicorn settings given that mean nothing
// here. It is the parser's state, never part of a Config (which is what
// workers get and a reload replaces): ParseArgs and RegisterFlags return it,
// and its notes go to Run or Serve to report. A nil *Parsed has no notes.
type Parsed struct {
	given    map[string]bool
	noEffect []string
}

// Given reports whether the setting with this long flag name ("log-level")
// was set by the parse (command line or GUNICORN_CMD_ARGS).
func (p *Parsed) Given(long string) bool { return p != nil && p.given[long] }

func (p *Parsed) setGiven(long string) {
	if p.given == nil {
		p.given = map[string]bool{}
	}
	p.given[long] = true
}

// NoEffect lists the Gunicorn settings given (flags, GUNICORN_CMD_ARGS)
// that mean nothing for this server, each with why and what to use
// instead, and the notes added (AddNoEffect): what Run and Serve report once
// at start-up and --check-config prints.
func (p *Parsed) NoEffect() []string {
	if p == nil {
		return nil
	}
	return slices.Clone(p.noEffect)
}

// AddNoEffect records note, something given elsewhere that means nothing here
// (an APP_* variable the configuration engine found no use for), to report
// with them: once at start-up and by --check-config, never fatal.
func (p *Parsed) AddNoEffect(note string) {
	if !containsFold(p.noEffect, note) {
		p.noEffect = append(p.noEffect, note)
	}
}

// noEffectFlag accepts a Gunicorn setting that means nothing here and
// records why, for the start-up log and --check-config.
type noEffectFlag struct {
	p *Parsed
	s *Setting
}

func (f *noEffectFlag) String() string { return "" }

func (f *noEffectFlag) IsBoolFlag() bool { return f != nil && f.s != nil && f.s.Meta == "" }

func (f *noEffectFlag) Set(v string) error {
	if f.s.Meta == "INT" {
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return errors.New("must be a whole number")
		}
	}
	given := "--" + f.s.LongName()
	if f.s.Meta != "" {
		given += " " + v
	}
	f.p.AddNoEffect(given + ": no effect: " + f.s.NoEffect)
	return nil
}
