package prefork

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// Settings is the effective configuration (defaults applied) as "name = value"
// lines with Gunicorn's setting names, sorted like Gunicorn's --print-config.
func (c Config) Settings() ([]string, error) {
	d, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	return d.settingLines(), nil
}

// OtherSettings is Settings without the settings config.yaml's server section holds
// (ServerKeys): what a program that prints that section adds to it, so that
// --print-config prints each value once, in one spelling.
func (c Config) OtherSettings() ([]string, error) {
	d, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	held := map[string]bool{}
	for i := range settings.Table {
		if settings.Table[i].Key != "" {
			held[settings.Table[i].Name] = true
		}
	}
	var lines []string
	for _, l := range d.settingLines() {
		if name, _, _ := strings.Cut(l, " = "); !held[name] {
			lines = append(lines, l)
		}
	}
	return lines, nil
}

// printConfig writes the effective configuration as Settings does.
func (c Config) printConfig(w io.Writer) {
	for _, l := range c.settingLines() {
		fmt.Fprintln(w, l)
	}
}

func (c Config) settingLines() []string {
	lines := []string{"read_header_timeout = " + settings.Seconds(c.ReadHeaderTimeout)}
	for i := range settings.Table {
		s := &settings.Table[i]
		if s.Value == nil || s.NoEffect != "" {
			continue
		}
		lines = append(lines, s.Name+" = "+s.Value(&c.Values).String())
	}
	slices.Sort(lines)
	return lines
}
