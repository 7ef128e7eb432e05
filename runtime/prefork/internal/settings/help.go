package settings

import (
	"fmt"
	"io"
	"strings"
)

// helpColumn is where argparse starts the help text.
const helpColumn = 24

// HelpFlag is one of a program's own flags, listed first in -h ("Config File").
type HelpFlag struct {
	Flags   []string // "-c", "--config"
	Meta    string   // value name; "" for a switch
	Default string
	Help    string
}

// WriteHelp prints -h: the usage line, the program's own flags, then the
// settings grouped by Gunicorn's sections, each as "-b ADDRESS, --bind
// ADDRESS" with its meaning and one default. defaults gives the default a
// setting shows and whether its platform variable ($PORT) is read.
func WriteHelp(w io.Writer, program, envCmdArgs string, own []HelpFlag, defaults func(s *Setting) (def string, read bool)) {
	fmt.Fprintf(w, "usage: %s [OPTIONS] [APP_MODULE]\n\n", program)
	fmt.Fprintf(w, "A prefork HTTP server taking Gunicorn's settings. %s is read\nfirst (split like a shell command); flags on the command line win.\n", envCmdArgs)
	fmt.Fprintln(w, "\noptions:")
	writeOption(w, "-h, --help", "show this help message and exit")
	writeOption(w, "-v, --version", "show program's version number and exit")
	for _, sec := range SectionOrder {
		header := false
		head := func() {
			if !header {
				fmt.Fprintf(w, "\n%s:\n", sec)
				header = true
			}
		}
		if sec == "Config File" {
			for _, f := range own {
				head()
				writeOption(w, optionForms(f.Flags, f.Meta, false), withDefault(f.Help, f.Default))
			}
			continue
		}
		for i := range Table {
			s := &Table[i]
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
