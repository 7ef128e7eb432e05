package prefork

import (
	"fmt"
	"io"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// Settings is the effective configuration (defaults applied) as "name = value"
// lines with Gunicorn's setting names, sorted like Gunicorn's --print-config.
func (c Config) Settings() ([]string, error) {
	d, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	return settings.Lines(&d.Values), nil
}

// OtherSettings is Settings without the settings config.yaml's server section holds
// (ServerKeys): what a program that prints that section adds to it, so that
// --print-config prints each value once, in one spelling.
func (c Config) OtherSettings() ([]string, error) {
	d, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	return settings.OtherLines(&d.Values), nil
}

// printConfig writes the effective configuration (c has its defaults) as
// Settings does.
func (c Config) printConfig(w io.Writer) {
	for _, l := range settings.Lines(&c.Values) {
		fmt.Fprintln(w, l)
	}
}
