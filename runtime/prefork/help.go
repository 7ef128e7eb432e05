package prefork

import (
	"fmt"
	"io"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// helpColumn is where argparse starts the help text.
const helpColumn = 24

// writeHelp prints the settings grouped by Gunicorn's sections, each as
// "-b ADDRESS, --bind ADDRESS" with its meaning and one default.
func (c *Config) writeHelp(cl CommandLine) {
	w := cl.stdout()
	defaults := c.helpDefaults()
	fmt.Fprintf(w, "usage: %s [OPTIONS] [APP_MODULE]\n\n", cl.Program)
	fmt.Fprintf(w, "A prefork HTTP server taking Gunicorn's settings. %s is read\nfirst (split like a shell command); flags on the command line win.\n", EnvCmdArgs)
	fmt.Fprintln(w, "\noptions:")
	writeOption(w, "-h, --help", "show this help message and exit")
	writeOption(w, "-v, --version", "show program's version number and exit")
	for _, sec := range settings.SectionOrder {
		header := false
		head := func() {
			if !header {
				fmt.Fprintf(w, "\n%s:\n", sec)
				header = true
			}
		}
		if sec == "Config File" {
			for _, f := range cl.Flags {
				head()
				writeOption(w, optionForms(f.Flags, f.Meta, false), withDefault(f.Help, f.Default))
			}
			continue
		}
		for i := range settings.Table {
			s := &settings.Table[i]
			if s.Section != sec {
				continue
			}
			head()
			help := s.Help
			if s.NoEffect != "" {
				help += " No effect here: " + s.NoEffect + "."
			}
			def, read := defaults(s)
			if read && s.Platform == EnvPort {
				help += " When PORT is set, the default is 0.0.0.0:$PORT."
			} else if read {
				help += " When " + s.Platform + " is set, the default is its value."
			}
			writeOption(w, optionForms(s.Flags, s.Meta, len(s.Optional) > 0), withDefault(help, def))
		}
	}
	fmt.Fprintf(w, "\nSignals: HUP rolling reload, TERM graceful stop, INT/QUIT quick stop,\nTTIN/TTOU one worker more/fewer, USR1 reopen logs, USR2 binary upgrade.\n")
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

func withDefault(help, def string) string {
	if def == "" {
		def = `""`
	}
	return help + " [" + def + "]"
}

// optionForms is "-b ADDRESS, --bind ADDRESS" (or "--proxy-protocol [MODE]").
func optionForms(flags []string, meta string, optional bool) string {
	forms := make([]string, len(flags))
	for i, f := range flags {
		switch {
		case meta == "":
			forms[i] = f
		case optional:
			forms[i] = f + " [" + meta + "]"
		default:
			forms[i] = f + " " + meta
		}
	}
	return strings.Join(forms, ", ")
}

// writeOption lays out one option as argparse does: the forms, then the
// help from column 24 (on the next line when the forms are long), wrapped
// at 79 columns.
func writeOption(w io.Writer, forms, help string) {
	lead := "  " + forms
	lines := wrapWords(help, 79-helpColumn)
	if len(lead) <= helpColumn-2 {
		fmt.Fprintf(w, "%-*s%s\n", helpColumn, lead, first(lines))
		lines = rest(lines)
	} else {
		fmt.Fprintln(w, lead)
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%*s%s\n", helpColumn, "", l)
	}
}

func first(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return l[0]
}

func rest(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l[1:]
}

func wrapWords(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, word := range strings.Fields(s) {
		if cur.Len() > 0 && cur.Len()+1+len(word) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(word)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
