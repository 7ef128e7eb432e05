package devrun

import (
	"bytes"
	"context"
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

// goBuild compiles pkg (e.g. "./run") in dir into bin. The command line is the same every
// time apart from -o, so the build cache serves everything that did not change.
func goBuild(ctx context.Context, goCmd, dir, pkg, bin string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", bin, pkg)
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
