package devrun

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// buildResult is what one `go build` reports to the loop.
type buildResult struct {
	gen    int
	bin    string
	output string // the compiler's combined output
	err    error  // nil: bin is ready to run
	took   time.Duration
}

// DefaultBuildFlags are the dev builds' flags: without DWARF debug information the linker,
// most of an incremental build, takes about a fifth less time. Stack traces and panics keep
// their file:line (that is the pclntab, not DWARF); only debuggers need DWARF, so
// `--build-flags ""` (or `-gcflags=all=-N -l` for delve) brings it back.
var DefaultBuildFlags = []string{"-ldflags=-w"}

// goBuild compiles pkg (e.g. "./run") in dir into bin. The command line is the same every
// time apart from -o, so the build cache serves everything that did not change.
func goBuild(ctx context.Context, goCmd, dir, pkg, bin string, flags, env []string) (string, error) {
	args := append(append([]string{"build"}, flags...), "-o", bin, pkg)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = env
	// Interrupt lets the go command remove its work directory; KILL follows after WaitDelay.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 2 * time.Second
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err := cmd.Run()
	return out.String(), err
}

// SplitFlags splits a command line of build flags at spaces, keeping text inside single or
// double quotes together ("-gcflags=all=-N -l" is one flag), as a shell would; an
// unterminated quote is an error.
func SplitFlags(s string) ([]string, error) {
	out := []string{}
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// compilerPos matches a compiler diagnostic: file.go:line[:col]: message.
var compilerPos = regexp.MustCompile(`^(\s*)(\S+\.(?:go|s|c|mod|sum|html|tmpl)):(\d+)(:\d+)?:(.*)$`)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiDim   = "\x1b[2m"
)

// formatBuildOutput indents the compiler's output under the runner's message; on a
// terminal, positions are bold and messages red so file:line stands out.
func formatBuildOutput(out string, color bool) string {
	var b strings.Builder
	for line := range strings.SplitSeq(strings.TrimRight(out, "\n"), "\n") {
		b.WriteString("    ")
		m := compilerPos.FindStringSubmatch(line)
		switch {
		case !color:
			b.WriteString(line)
		case m != nil:
			b.WriteString(m[1] + ansiBold + m[2] + ":" + m[3] + m[4] + ansiReset + ":" + ansiRed + m[5] + ansiReset)
		case strings.HasPrefix(line, "#"):
			b.WriteString(ansiDim + line + ansiReset)
		default:
			b.WriteString(line)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
