package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// describeMachine reads the CPU model and memory from /proc and free(1).
func describeMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("uname", "-sr").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	}
	if out, err := exec.Command("free", "-m").Output(); err == nil {
		m.Free = strings.TrimRight(string(out), "\n")
	}
	return m
}

// toolSpec says how to find, version and install one comparison tool.
type toolSpec struct {
	name    string
	check   []string // command whose success means usable
	version []string // command printing the version (first line kept)
	install string
}

// serverPython is the interpreter Debian's gunicorn runs under (its #! line),
// which may not be the python3 first on PATH (pyenv, venvs): Flask must be
// importable there.
func serverPython() string {
	if path, err := exec.LookPath("gunicorn"); err == nil {
		if b, err := os.ReadFile(path); err == nil {
			if line, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(line, "#!") {
				if f := strings.Fields(line[2:]); len(f) == 1 && filepath.IsAbs(f[0]) {
					return f[0]
				}
			}
		}
	}
	return "python3"
}

func toolSpecs(gunicorn26 string) []toolSpec {
	py := serverPython()
	g26 := []string{"env", "PYTHONPATH=" + gunicorn26, py}
	return []toolSpec{
		{"gunicorn 26.1", append(slices.Clone(g26), "-c", "import flask, gunicorn; assert gunicorn.__version__.startswith('26.1')"),
			append(slices.Clone(g26), "-m", "gunicorn", "--version"), "the Gunicorn 26.1 source folder: bench -gunicorn DIR (or BENCH_GUNICORN26), with python3-flask"},
		{"wrk", []string{"wrk", "-v"}, []string{"wrk", "-v"}, "apt-get install wrk"},
		{"gunicorn", []string{py, "-c", "import gunicorn, flask"}, []string{"gunicorn", "--version"}, "apt-get install gunicorn python3-flask"},
		{"flask", []string{py, "-c", "import flask"}, []string{py, "-c", "import flask, importlib.metadata as m; print('Flask', m.version('flask'))"}, "apt-get install python3-flask"},
		{"uwsgi", []string{"uwsgi", "--plugin", "python3", "--version"}, []string{"uwsgi", "--version"}, "apt-get install uwsgi uwsgi-plugin-python3 python3-flask"},
		{"python3", []string{py, "--version"}, []string{py, "--version"}, "apt-get install python3"},
		{"air", []string{"air", "-v"}, []string{"air", "-v"}, "go install github.com/air-verse/air@latest"},
	}
}

// findTools probes each comparison tool; wrk exits non-zero on -v, so
// success is judged by the binary running at all.
func findTools(gunicorn26 string) []Tool {
	var out []Tool
	for _, s := range toolSpecs(gunicorn26) {
		t := Tool{Name: s.name, Install: s.install}
		if _, err := exec.LookPath(s.check[0]); err == nil {
			cmdOut, err := exec.Command(s.check[0], s.check[1:]...).CombinedOutput()
			var exit *exec.ExitError
			t.Installed = err == nil || (s.name == "wrk" && errors.As(err, &exit) && strings.Contains(string(cmdOut), "wrk"))
		}
		if t.Installed {
			v, _ := exec.Command(s.version[0], s.version[1:]...).CombinedOutput()
			t.Version = firstLine(string(v))
		}
		out = append(out, t)
	}
	return out
}

func firstLine(s string) string {
	for _, line := range strings.Split(s, "\n") {
		// air prints a banner; keep the line that names a version.
		if line = strings.TrimSpace(line); line != "" && (strings.ContainsAny(line, "0123456789")) {
			return line
		}
	}
	return strings.TrimSpace(s)
}
