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
func CheckNginx(ctx context.Context, sites ...[]byte) error {
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
	for i, site := range sites {
		if err := os.WriteFile(filepath.Join(dir, "sites", fmt.Sprintf("%02d.conf", i)), site, 0o644); err != nil {
			return err
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
		return fmt.Errorf("nginx -t: %v\n%s", err, bytes.TrimSpace(out))
	}
	return nil
}

// CheckSystemd runs `systemd-analyze verify` on the socket and service units (contents
// by file name, e.g. "demo.service"). systemd-analyze checks that ExecStart's binary
// exists, so the project must be installed where the unit says.
func CheckSystemd(ctx context.Context, units map[string][]byte) error {
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
		return fmt.Errorf("systemd-analyze verify: %v\n%s", err, bytes.TrimSpace(out))
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

// Check validates the generated files with the real tools that are installed: passed
// names each check that ran and passed (what --check tells the user), skipped each that
// could not run (a missing tool) rather than failing.
func (c *Context) Check(ctx context.Context) (passed, skipped []string, err error) {
	var errs []error
	d := c.Data
	if f, ok := c.Files.Get("nginx/" + d.Name + ".conf"); ok {
		sites := [][]byte{f.Data}
		if def, ok := c.Files.Get(DefaultServerFile); ok {
			sites = append(sites, def.Data)
		}
		switch err := CheckNginx(ctx, sites...); {
		case errors.Is(err, ErrToolMissing):
			skipped = append(skipped, "nginx -t (nginx not installed)")
		case err != nil:
			errs = append(errs, err)
		default:
			passed = append(passed, "nginx -t: the site loads in nginx")
		}
	}
	svc, ok1 := c.Files.Get("systemd/" + d.Name + ".service")
	sock, ok2 := c.Files.Get("systemd/" + d.Name + ".socket")
	if ok1 && ok2 {
		unit := svc.Data
		// Before `make install` the binary is not there yet, and verify would stop at that.
		// Check the rest with a stand-in and say what was not checked.
		if fi, err := os.Stat(d.Bin); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			if stand, err := exec.LookPath("true"); err == nil {
				unit = bytes.ReplaceAll(unit, []byte("ExecStart="+d.Bin+" "), []byte("ExecStart="+stand+" "))
				skipped = append(skipped, fmt.Sprintf("ExecStart's binary (%s is not installed yet: run `make install` (or install the package), then --check again; the rest of the units was verified)", d.Bin))
			}
		}
		err := CheckSystemd(ctx, map[string][]byte{d.Name + ".service": unit, d.Name + ".socket": sock.Data})
		switch {
		case errors.Is(err, ErrToolMissing):
			skipped = append(skipped, "systemd-analyze verify (systemd-analyze not installed)")
		case err != nil:
			errs = append(errs, err)
		default:
			passed = append(passed, "systemd-analyze verify: the socket and service units")
		}
		score, report, err := SecurityScore(ctx, d.Name+".service", svc.Data)
		switch {
		case errors.Is(err, ErrToolMissing):
			skipped = append(skipped, "systemd-analyze security (systemd-analyze not installed)")
		case err != nil:
			errs = append(errs, err)
		case score > MaxExposure:
			errs = append(errs, fmt.Errorf("systemd-analyze security: exposure %.1f is above %.1f:\n%s", score, MaxExposure, report))
		default:
			passed = append(passed, fmt.Sprintf("systemd-analyze security: exposure %.1f (at most %.1f)", score, MaxExposure))
		}
	}
	return passed, skipped, errors.Join(errs...)
}
