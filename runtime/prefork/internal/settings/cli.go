package settings

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// CommandLine describes a program's Gunicorn-style command line for
// ParseArgs.
type CommandLine struct {
	// Program is the name in help and errors ("Try 'NAME --help'").
	Program string
	// Flags are the program's own, listed first in -h ("Config File"),
	// such as the generated entry's -c/--config DIR.
	Flags []Flag
	// Stdout receives -h and -v output. Default os.Stdout.
	Stdout io.Writer
	// Version is printed by -v/--version. Default: the main module's version.
	Version string
	// Env is read as GUNICORN_CMD_ARGS; nil means os.Getenv.
	Env func(string) string
	// Commands are the program's own subcommands (such as migrate), handled before
	// ParseArgs. With the runtime's control subcommands, they are what a bare word close to
	// one is refused as a typo of, rather than served as Gunicorn's APP_MODULE.
	Commands []string
}

// Flag is a flag a program adds to the runtime's
type Flag struct {
	Flags   []string // "-c", "--config"
	Meta    string   // value name; "" for a switch
	Default string   // shown in -h
	Help    string
	// Set receives the value; nil accepts it and does nothing (the program
	// read it already, as the entry reads -c before loading config.yaml).
	Set func(string) error
}

// UsageError is a bad command line: the message names the flag, the value
// and the rule. Programs print it after their name and exit with status 2
// (ExitCode), as argparse does.
type UsageError struct {
	Program string
	Msg     string
}

func (e *UsageError) Error() string {
	return e.Msg + "\nTry '" + e.Program + " --help' for more information."
}

// ExitCode is the exit status for err returned by a program's run: 0 for
// nil and for help or version shown (flag.ErrHelp), 2 for a UsageError, 1
// for anything else.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		return 2
	}
	return 1
}

// EnvCmdArgs is the environment variable read as extra command-line
// arguments, as Gunicorn reads it (split like a POSIX shell).
const EnvCmdArgs = "GUNICORN_CMD_ARGS"

// ParseArgs applies a Gunicorn command line to v: first $GUNICORN_CMD_ARGS
// (split as a shell would: quotes and backslashes), then args, so flags on
// the command line win, and a repeatable flag given on the command line
// replaces the environment's list. The values in v (config.yaml's) are
// the base. -h/--help (help prints it) and -v/--version print to cl.Stdout
// and return flag.ErrHelp. Long flags take two dashes and are never
// abbreviated; a short flag takes its value attached or next (-w4, -w 4), a
// long one after "=" or next. One positional APP_MODULE (Gunicorn's
// module:app) is accepted and reported as having no effect, unless it is a
// word close to one of cl.Commands or builtin (the runtime's own
// subcommands). The Parsed returned (never nil) says which settings were
// given and holds the notes for Run. Errors are *UsageError.
func ParseArgs(v *Values, cl CommandLine, args []string, help func(), builtin []string) (*Parsed, error) {
	p := new(Parsed)
	return p, argParse{v: v, cl: cl, p: p, help: help, builtin: builtin}.parseArgs(args)
}

// argParse is one ParseArgs: where the values go, the program's command line,
// what is noted, -h's printer and the runtime's subcommands.
type argParse struct {
	v       *Values
	cl      CommandLine
	p       *Parsed
	help    func()
	builtin []string
}

func (ap argParse) parseArgs(args []string) error {
	cl, p := ap.cl, ap.p
	getenv := cl.Env
	if getenv == nil {
		getenv = os.Getenv
	}
	if env := getenv(EnvCmdArgs); strings.TrimSpace(env) != "" {
		words, err := splitShell(env)
		if err == nil {
			err = ap.parsePass(words)
		}
		if err != nil {
			var ue *UsageError
			if errors.As(err, &ue) {
				ue.Msg = EnvCmdArgs + ": " + ue.Msg
				return ue
			}
			if errors.Is(err, flag.ErrHelp) {
				return err
			}
			return &UsageError{Program: cl.Program, Msg: EnvCmdArgs + ": " + err.Error()}
		}
	}
	if err := ap.parsePass(args); err != nil {
		return err
	}
	// $PORT and $WEB_CONCURRENCY only give defaults: say so when a flag wins.
	for _, d := range PlatformDefaults(getenv) {
		if p.Given(d.Flag) {
			p.AddNoEffect(fmt.Sprintf("%s=%s: not used: --%s on the command line sets %s (the variable only gives the default)", d.Variable, d.Given, d.Flag, d.Key))
		}
	}
	return nil
}

// option is what one flag word resolves to.
type option struct {
	s    *Setting // runtime setting, or nil
	prog *Flag    // program flag, or nil
	v    flag.Value
}

func (o option) label() string {
	if o.prog != nil {
		return strings.Join(o.prog.Flags, "/")
	}
	return o.s.Label()
}

func (o option) takesValue() (required bool, optional []string) {
	if o.prog != nil {
		return o.prog.Meta != "", nil
	}
	if len(o.s.Optional) > 0 {
		return false, o.s.Optional
	}
	return o.s.Meta != "", nil
}

func (o option) set(v string) error {
	if o.prog != nil {
		if o.prog.Set == nil {
			return nil
		}
		return o.prog.Set(v)
	}
	return o.v.Set(v)
}

var appModuleRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*(:.*)?$`)

// parsePass parses one list of words (the environment's or the command
// line's); values are fresh per pass, so the first -b of a pass replaces.
func (ap argParse) parsePass(args []string) error {
	cl, p := ap.cl, ap.p
	values := map[*Setting]flag.Value{}
	lookup := func(word string) (option, bool) {
		for i := range cl.Flags {
			for _, f := range cl.Flags[i].Flags {
				if f == word {
					return option{prog: &cl.Flags[i]}, true
				}
			}
		}
		for i := range Table {
			s := &Table[i]
			for _, f := range s.Flags {
				if f == word {
					if values[s] == nil {
						values[s] = FlagValue(s, ap.v, p)
					}
					return option{s: s, v: values[s]}, true
				}
			}
		}
		return option{}, false
	}
	usage := func(format string, a ...any) error {
		return &UsageError{Program: cl.Program, Msg: fmt.Sprintf(format, a...)}
	}
	apply := func(o option, val string) error {
		if err := o.set(val); err != nil {
			return usage("invalid value %q for %s: %s", val, o.label(), strings.TrimPrefix(err.Error(), "prefork: "))
		}
		if o.s != nil {
			p.setGiven(o.s.LongName())
		}
		return nil
	}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			positional = append(positional, a)
			continue
		}
		var word, val string
		hasVal := false
		if strings.HasPrefix(a, "--") {
			word, val, hasVal = strings.Cut(a, "=")
		} else {
			word = a[:2]
			if long, _, _ := strings.Cut(a[1:], "="); len(a) > 2 {
				if _, ok := lookup("--" + long); ok {
					return usage("%s: long flags take two dashes: --%s", a, a[1:])
				}
			}
			if len(a) > 2 {
				val, hasVal = a[2:], true
			}
		}
		switch word {
		case "-h", "--help":
			ap.help()
			return flag.ErrHelp
		case "-v", "--version":
			cl.writeVersion()
			return flag.ErrHelp
		}
		o, ok := lookup(word)
		if !ok {
			return usage("%s: no such flag%s", word, suggest(word, cl))
		}
		required, optional := o.takesValue()
		switch {
		case required:
			if !hasVal {
				if i+1 >= len(args) || looksLikeFlag(args[i+1]) {
					return usage("%s needs a value (%s)", o.label(), metaOf(o))
				}
				i++
				val = args[i]
			}
		case len(optional) > 0:
			if !hasVal {
				val = optional[0]
				if i+1 < len(args) && containsFold(optional, args[i+1]) {
					i++
					val = args[i]
				}
			}
		default: // a switch
			if hasVal && !strings.HasPrefix(a, "--") {
				// combined short switches: -DR
				if err := apply(o, "true"); err != nil {
					return err
				}
				args = append(args[:i+1], append([]string{"-" + val}, args[i+1:]...)...)
				continue
			}
			if !hasVal {
				val = "true"
			}
		}
		if err := apply(o, val); err != nil {
			return err
		}
	}
	if len(positional) > 0 {
		if err := cl.checkCommand(positional[0], ap.builtin); err != nil {
			return err
		}
	}
	switch {
	case len(positional) > 1:
		return usage("unexpected arguments %q: one APP_MODULE at most (flags only here)", strings.Join(positional, " "))
	case len(positional) == 1:
		if !appModuleRE.MatchString(positional[0]) {
			return usage("unexpected argument %q: flags only (see --help)", positional[0])
		}
		p.AddNoEffect(positional[0] + ": no effect: APP_MODULE names a Python app; this server's app is compiled into the binary")
	}
	return nil
}

// checkCommand refuses a bare word (no module:app colon, no dotted path) within two
// edits of a command, before anything binds: `demo stauts` is a typo of status, not an
// APP_MODULE to ignore while a production server starts.
func (cl CommandLine) checkCommand(word string, builtin []string) error {
	if strings.ContainsAny(word, ":.") {
		return nil
	}
	known := append(slices.Clone(cl.Commands), builtin...)
	best, bestD := "", 3
	for _, k := range known {
		if d := EditDistance(word, k); d < bestD {
			best, bestD = k, d
		}
	}
	switch {
	case best == "":
		return nil
	case bestD == 0:
		return &UsageError{Program: cl.Program, Msg: fmt.Sprintf("%q: not a command of %s (%s)", word, cl.Program, commandList(cl.Commands))}
	}
	return &UsageError{Program: cl.Program, Msg: fmt.Sprintf("%q: no such command; did you mean %q? (%s)", word, best, commandList(known))}
}

func commandList(commands []string) string {
	if len(commands) == 0 {
		return "it takes flags only"
	}
	return "commands: " + strings.Join(commands, ", ")
}

func metaOf(o option) string {
	if o.prog != nil {
		return o.prog.Meta
	}
	return o.s.Meta
}

// looksLikeFlag reports whether a word is a flag rather than a value
// (argparse's rule: "-1" and "-0.5" are values).
func looksLikeFlag(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	_, err := strconv.ParseFloat(s, 64)
	return err != nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// suggest names the flags an unknown or abbreviated one may have meant.
func suggest(word string, cl CommandLine) string {
	if !strings.HasPrefix(word, "--") {
		return " (see --help)"
	}
	var matches []string
	add := func(flags []string) {
		for _, f := range flags {
			if strings.HasPrefix(f, word) {
				matches = append(matches, f)
			}
		}
	}
	for _, f := range cl.Flags {
		add(f.Flags)
	}
	for _, s := range Table {
		add(s.Flags)
	}
	switch {
	case len(matches) == 1:
		return "; did you mean " + matches[0] + "? (flags are not abbreviated)"
	case len(matches) > 1:
		if len(matches) > 5 {
			matches = append(matches[:5], "...")
		}
		return "; did you mean one of " + strings.Join(matches, ", ") + "? (flags are not abbreviated)"
	}
	// A typo (--wokers) rather than an abbreviation: the nearest long flag.
	var long []string
	addLong := func(flags []string) {
		for _, f := range flags {
			if name, ok := strings.CutPrefix(f, "--"); ok {
				long = append(long, name)
			}
		}
	}
	for _, f := range cl.Flags {
		addLong(f.Flags)
	}
	for _, s := range Table {
		addLong(s.Flags)
	}
	if best := Closest(strings.TrimPrefix(word, "--"), long); best != "" {
		return "; did you mean --" + best + "?"
	}
	return " (see --help)"
}

// Output is where -h and -v print: Stdout, or os.Stdout.
func (cl CommandLine) Output() io.Writer {
	if cl.Stdout != nil {
		return cl.Stdout
	}
	return os.Stdout
}

func (cl CommandLine) writeVersion() {
	v := cl.Version
	if v == "" {
		v = "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			v = bi.Main.Version
		}
	}
	fmt.Fprintf(cl.Output(), "%s (version %s)\n", cl.Program, v)
}

// splitShell splits s into words as Python's shlex.split does (POSIX
// mode): whitespace separates, '...' is literal, "..." allows \" \\ \$ \`,
// a backslash outside quotes escapes the next character.
func splitShell(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\\':
			inWord = true
			if i+1 >= len(s) {
				return nil, errors.New("no escaped character after the final backslash")
			}
			i++
			cur.WriteByte(s[i])
		case ch == '\'':
			inWord = true
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, errors.New("no closing quotation (')")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
		case ch == '"':
			inWord = true
			closed := false
			for i++; i < len(s); i++ {
				if s[i] == '"' {
					closed = true
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if !closed {
				return nil, errors.New(`no closing quotation (")`)
			}
		default:
			inWord = true
			cur.WriteByte(ch)
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}
