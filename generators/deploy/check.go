package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ErrToolMissing means a checking tool (nginx, systemd-analyze) is not installed.
var ErrToolMissing = errors.New("not installed")

// checkTimeout bounds each run of a checking tool.
const checkTimeout = 30 * time.Second

// NginxWrapper returns a minimal nginx.conf, for a prefix folder of its own, that includes
// the site file (or a glob of them): what `nginx -t` and a test nginx need to load a site outside /etc/nginx.
// As root, nginx would switch its workers to "nobody", which cannot reach a socket or
// static files in a private folder; user root keeps them reachable in tests.
func NginxWrapper(prefix, site string) []byte {
	var b strings.Builder
	if os.Geteuid() == 0 {
		b.WriteString("user root;\n")
	}
	fmt.Fprintf(&b, "worker_processes 1;\npid %s/nginx.pid;\nerror_log stderr warn;\n", prefix)
	b.WriteString("events { worker_connections 256; }\nhttp {\n")
	if _, err := os.Stat("/etc/nginx/mime.types"); err == nil {
		b.WriteString("    include /etc/nginx/mime.types;\n")
	}
	b.WriteString("    default_type application/octet-stream;\n")
	for _, t := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&b, "    %s_temp_path %s/tmp/%s;\n", t, prefix, t)
	}
	fmt.Fprintf(&b, "    access_log off;\n    include %s;\n}\n", site)
	return []byte(b.String())
}

// CheckNginx runs `nginx -t` on sites (the contents of generated files: one app's site
// and default-server.conf, or several apps' sites) loaded together, through a wrapper
// config in a temporary folder. The error carries nginx's own message.
func CheckNginx(ctx context.Context, sites ...[]byte) error { return checkNginx(ctx, nil, sites) }

// checkNginx is CheckNginx naming each site in nginx's messages by names[i] (its path as
// the user knows it) in place of the temporary copy's.
func checkNginx(ctx context.Context, names []string, sites [][]byte) error {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		return fmt.Errorf("nginx: %w", ErrToolMissing)
	}
	dir, err := os.MkdirTemp("", "scaffold-nginx-check-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"tmp", "sites"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	var renames []string
	for i, site := range sites {
		p := filepath.Join(dir, "sites", fmt.Sprintf("%02d.conf", i))
		if err := os.WriteFile(p, site, 0o644); err != nil {
			return err
		}
		if i < len(names) {
			renames = append(renames, p, names[i])
		}
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, NginxWrapper(dir, filepath.Join(dir, "sites", "*.conf")), 0o644); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-t", "-q", "-p", dir, "-e", "stderr", "-c", conf).CombinedOutput()
	if err != nil {
		var lines []string // nginx's, naming the sites as given; not its closing line on the wrapper
		for _, l := range strings.Split(strings.NewReplacer(renames...).Replace(string(bytes.TrimSpace(out))), "\n") {
			if len(names) == 0 || !strings.Contains(l, dir) {
				lines = append(lines, l)
			}
		}
		return fmt.Errorf("nginx -t: %v\n%s", err, strings.Join(lines, "\n"))
	}
	return nil
}

// upstreamHost is an upstream's server line naming a host (not an address or a socket).
var upstreamHost = regexp.MustCompile(`(?m)^(\s*server\s+)[A-Za-z][A-Za-z0-9.-]*((:[0-9]+)?[\s;])`)

// standInUpstreams points the upstream servers that name a host at 127.0.0.1, line for
// line: nginx -t resolves every name, and the app's machines are not this one's to resolve.
func standInUpstreams(site []byte) []byte {
	return upstreamHost.ReplaceAll(site, []byte("${1}127.0.0.1${2}"))
}

// CheckSystemd runs `systemd-analyze verify` on the socket and service units (contents
// by file name, e.g. "demo.service"). systemd-analyze checks that ExecStart's binary
// exists, so the project must be installed where the unit says.
func CheckSystemd(ctx context.Context, units map[string][]byte) error {
	return checkSystemd(ctx, "", units)
}

// checkSystemd is CheckSystemd naming the units in systemd-analyze's messages as in
// folder (with its trailing slash) in place of the temporary copies'.
func checkSystemd(ctx context.Context, folder string, units map[string][]byte) error {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return fmt.Errorf("systemd-analyze: %w", ErrToolMissing)
	}
	dir, err := os.MkdirTemp("", "scaffold-systemd-check-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	args := []string{"verify", "--man=no"}
	for name, data := range units {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return err
		}
		args = append(args, p)
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		msg := string(bytes.TrimSpace(out))
		if folder != "" {
			msg = strings.ReplaceAll(msg, dir+"/", folder)
		}
		return fmt.Errorf("systemd-analyze verify: %v\n%s", err, msg)
	}
	return nil
}

var exposureLine = regexp.MustCompile(`Overall exposure level for \S+: ([0-9]+(?:\.[0-9]+)?)`)

// SecurityScore runs `systemd-analyze security --offline=true` on a service unit and
// returns its overall exposure level (0 = locked down, 10 = unprotected) and the report.
func SecurityScore(ctx context.Context, name string, unit []byte) (float64, string, error) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		return 0, "", fmt.Errorf("systemd-analyze: %w", ErrToolMissing)
	}
	dir, err := os.MkdirTemp("", "scaffold-systemd-security-*")
	if err != nil {
		return 0, "", err
	}
	defer os.RemoveAll(dir)
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, unit, 0o644); err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "security", "--offline=true", "--no-pager", p)
	cmd.Env = append(os.Environ(), "SYSTEMD_COLORS=0")
	out, err := cmd.CombinedOutput()
	m := exposureLine.FindSubmatch(out)
	if m == nil {
		return 0, string(out), fmt.Errorf("systemd-analyze security: no exposure level in its output (%v)", err)
	}
	score, err := strconv.ParseFloat(string(m[1]), 64)
	return score, string(out), err
}

// MaxExposure is the highest `systemd-analyze security` score a generated service may have.
// The generated unit measures 1.2; README.md and the generated files quote this figure
// (TestExposureFigureAgrees keeps them in step).
const MaxExposure = 1.2

// How to install each checking tool, for the message that says it was skipped.
var installTool = map[string]string{
	"nginx":           "apt-get install nginx",
	"systemd-analyze": "apt-get install systemd",
	"kube-score":      "go install github.com/zegl/kube-score/cmd/kube-score@v1.20.0",
	"kubectl":         "install kubectl (https://kubernetes.io/docs/tasks/tools/) or kustomize, for the production overlay",
	"promtool":        "apt-get install prometheus",
}

// missing is the message of a check a missing tool could not run.
func missing(check, tool string) string {
	return fmt.Sprintf("%s (%s not installed: %s)", check, tool, installTool[tool])
}

// Rules of the checks by a real tool, as a failure quotes them.
const (
	RuleNginxLoads = "the site loads in nginx: nginx -t finds no error in it"
	RuleUnitsLoad  = "the units load in systemd: systemd-analyze verify finds no error in them"
)

// checkReport is what a run of the checks found.
type checkReport struct {
	passed  []string // each check that ran and passed
	skipped []string // each check a missing tool could not run, with how to install it
	notes   []string // what a check that ran with a stand-in did not cover
	errs    []error
}

// Check validates the generated files with the real tools that are installed: passed
// names each check that ran and passed (what --check tells the user), skipped each that
// could not run (a missing tool) rather than failing.
func (c *Context) Check(ctx context.Context) (passed, skipped []string, err error) {
	r := c.checkHost(ctx, "", MaxExposure)
	return r.passed, append(r.skipped, r.notes...), errors.Join(r.errs...)
}

var execStart = regexp.MustCompile(`(?m)^ExecStart=(\S+) `)

// checkHost runs nginx -t on the site and systemd-analyze verify and security on the units
// among c.Files, naming them in messages by folder (the output folder, with its trailing
// slash, or "") and their paths; the service may score at most maxExposure.
func (c *Context) checkHost(ctx context.Context, folder string, maxExposure float64) *checkReport {
	r := &checkReport{}
	d := c.Data
	if f, ok := c.Files.Get("nginx/" + d.Name + ".conf"); ok {
		names, sites := []string{folder + f.Path}, [][]byte{standInUpstreams(f.Data)}
		if def, ok := c.Files.Get(DefaultServerFile); ok {
			names, sites = append(names, folder+def.Path), append(sites, def.Data)
		}
		switch err := checkNginx(ctx, names, sites); {
		case errors.Is(err, ErrToolMissing):
			r.skipped = append(r.skipped, missing("nginx -t", "nginx"))
		case err != nil:
			r.errs = append(r.errs, fmt.Errorf("%w\n    rule: %s", err, RuleNginxLoads))
		default:
			r.passed = append(r.passed, "nginx -t: the site loads in nginx")
		}
	}
	svc, ok1 := c.Files.Get("systemd/" + d.Name + ".service")
	sock, ok2 := c.Files.Get("systemd/" + d.Name + ".socket")
	if ok1 && ok2 {
		unit := svc.Data
		// Before `make install` the binary is not there yet, and verify would stop at that.
		// Check the rest with a stand-in and say what was not checked.
		bin := d.Bin
		if m := execStart.FindSubmatch(unit); m != nil {
			bin = string(m[1]) // as the unit says, edited or not
		}
		if fi, err := os.Stat(bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			if stand, err := exec.LookPath("true"); err == nil {
				unit = bytes.ReplaceAll(unit, []byte("ExecStart="+bin+" "), []byte("ExecStart="+stand+" "))
				r.notes = append(r.notes, fmt.Sprintf("ExecStart's binary (%s is not installed yet: run `make install` (or install the package), then check again; the rest of the units was verified)", bin))
			}
		}
		err := checkSystemd(ctx, folder+"systemd/", map[string][]byte{d.Name + ".service": unit, d.Name + ".socket": sock.Data})
		switch {
		case errors.Is(err, ErrToolMissing):
			r.skipped = append(r.skipped, missing("systemd-analyze verify", "systemd-analyze"))
		case err != nil:
			r.errs = append(r.errs, fmt.Errorf("%w\n    rule: %s", err, RuleUnitsLoad))
		default:
			r.passed = append(r.passed, "systemd-analyze verify: the socket and service units")
		}
		score, report, err := SecurityScore(ctx, d.Name+".service", svc.Data)
		switch {
		case errors.Is(err, ErrToolMissing):
			r.skipped = append(r.skipped, missing("systemd-analyze security", "systemd-analyze"))
		case err != nil:
			r.errs = append(r.errs, err)
		case score > maxExposure:
			r.errs = append(r.errs, fmt.Errorf("%s%s: systemd-analyze security: exposure %.1f is above %.1f:\n%s", folder, svc.Path, score, maxExposure, report))
		default:
			r.passed = append(r.passed, fmt.Sprintf("systemd-analyze security: exposure %.1f (at most %.1f)", score, maxExposure))
		}
	}
	return r
}
