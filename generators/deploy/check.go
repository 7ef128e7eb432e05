package deploy

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
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

// checkTimeout bounds each run of a checking tool: a guard against a tool
// that hangs, not a speed target. promtool's rule tests evaluate the SLO
// alerts over days of samples and took over 30 s on a loaded 2-core machine.
const checkTimeout = 2 * time.Minute

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
		if err == nil { // exit 0, but warnings: a key systemd ignores is a unit not as written
			return fmt.Errorf("systemd-analyze verify warns:\n%s", msg)
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

var (
	logPath    = regexp.MustCompile(`(?m)^(\s*(?:access_log|error_log)\s+)(/[^\s;]+)`)
	listenAddr = regexp.MustCompile(`(?m)^(\s*listen\s+)([^\s;]+)([\s;])`)
	certPath   = regexp.MustCompile(`(?m)^(\s*ssl_certificate(_key)?\s+)(/[^\s;]+)`)
)

// standInServer makes a site checkable on a machine other than its server (a laptop, a CI
// runner), line for line: its logs go to /dev/null (nginx -t opens them, and their folders
// are the server's); its listen addresses move to free loopback ports (nginx -t binds them:
// port 80 needs root, and is taken where an nginx runs), one address to one port across
// the sites sharing ports; a certificate or key that is not on this machine is replaced by
// a self-signed pair written to dir. notes says what was stood in.
func standInServer(site []byte, dir string, ports map[string]string) (out []byte, notes []string, err error) {
	out = logPath.ReplaceAll(site, []byte("${1}/dev/null"))
	if !bytes.Equal(out, site) {
		notes = append(notes, "nginx's log files (nginx -t opened /dev/null in their place: their folders are the server's)")
	}
	var listenErr error
	moved := listenAddr.ReplaceAllFunc(out, func(line []byte) []byte {
		m := listenAddr.FindSubmatch(line)
		addr := string(m[2])
		if ports[addr] == "" {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				listenErr = err
				return line
			}
			ports[addr] = l.Addr().String()
			l.Close()
		}
		return append(append(append([]byte{}, m[1]...), ports[addr]...), m[3]...)
	})
	if listenErr != nil {
		return nil, nil, listenErr
	}
	if !bytes.Equal(moved, out) {
		notes = append(notes, "the listen addresses (nginx -t bound free ports of 127.0.0.1 in their place: the ports are the server's)")
	}
	out = moved
	var missingFiles []string
	out = certPath.ReplaceAllFunc(out, func(line []byte) []byte {
		m := certPath.FindSubmatch(line)
		if _, err := os.Stat(string(m[3])); err == nil {
			return line
		}
		missingFiles = append(missingFiles, string(m[3]))
		stand := filepath.Join(dir, "stand-in.crt")
		if len(m[2]) > 0 {
			stand = filepath.Join(dir, "stand-in.key")
		}
		return append(append([]byte{}, m[1]...), stand...)
	})
	if len(missingFiles) == 0 {
		return out, notes, nil
	}
	if err := writeStandInPair(dir); err != nil {
		return nil, nil, err
	}
	notes = append(notes, fmt.Sprintf("the TLS certificate and key (%s are not on this machine: nginx -t loaded a self-signed stand-in)", strings.Join(missingFiles, ", ")))
	return out, notes, nil
}

// writeStandInPair writes stand-in.crt and stand-in.key, a self-signed pair, to dir.
func writeStandInPair(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "scaffold stand-in"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "stand-in.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "stand-in.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
}

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
	r := c.checkHost(ctx, "", MaxExposure, false)
	return r.passed, append(r.skipped, r.notes...), errors.Join(r.errs...)
}

var execStart = regexp.MustCompile(`(?m)^ExecStart=(\S+) `)

// checkHost runs nginx -t on the site and systemd-analyze verify and security on the units
// among c.Files, naming them in messages by folder (the output folder, with its trailing
// slash, or "") and their paths; the service may score at most maxExposure.
//
// elsewhere means the files are checked away from their server (Verify): what belongs to
// the server alone (log folders, certificates) is stood in for, and said so.
func (c *Context) checkHost(ctx context.Context, folder string, maxExposure float64, elsewhere bool) *checkReport {
	r := &checkReport{}
	d := c.Data
	if f, ok := c.Files.Get("nginx/" + d.Name + ".conf"); ok {
		names, sites := []string{folder + f.Path}, [][]byte{standInUpstreams(f.Data)}
		if def, ok := c.Files.Get(DefaultServerFile); ok {
			names, sites = append(names, folder+def.Path), append(sites, def.Data)
		}
		if elsewhere {
			dir, err := os.MkdirTemp("", "scaffold-nginx-stand-in-*")
			if err != nil {
				r.errs = append(r.errs, err)
				return r
			}
			defer os.RemoveAll(dir)
			seen, ports := map[string]bool{}, map[string]string{}
			for i := range sites {
				site, notes, err := standInServer(sites[i], dir, ports)
				if err != nil {
					r.errs = append(r.errs, err)
					return r
				}
				sites[i] = site
				for _, n := range notes {
					if !seen[n] {
						seen[n] = true
						r.notes = append(r.notes, n)
					}
				}
			}
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
				// ExecStart= and a --db project's ExecStartPre= (migrate) alike.
				unit = bytes.ReplaceAll(unit, []byte("="+bin+" "), []byte("="+stand+" "))
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
