package deploy

import (
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
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/generators/project"
	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// selfSigned writes a certificate and key for host into dir as the given file names.
func selfSigned(t *testing.T, dir, host, certName, keyName string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, keyFile := filepath.Join(dir, certName), filepath.Join(dir, keyName)
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, keyFile
}

// Every nginx variant is accepted by `nginx -t`.
func TestNginxAcceptsEveryVariant(t *testing.T) {
	testenv.Tool(t, "nginx")
	dir := newProject(t, "demo")
	certs := t.TempDir()
	cert, key := selfSigned(t, certs, "shop.example.com", "shop.pem", "shop.key")
	le := filepath.Join(certs, "letsencrypt")
	selfSigned(t, filepath.Join(le, "live", "shop.example.com"), "shop.example.com", "fullchain.pem", "privkey.pem")
	logs := t.TempDir()
	domain := []string{"shop.example.com"}
	for _, tc := range []struct {
		name string
		opts Options
	}{
		{"plain, any host", Options{}},
		{"plain, domains", Options{Domains: []string{"shop.example.com", "www.shop.example.com"}}},
		{"loopback listen", Options{Domains: domain, Listen: "127.0.0.1:8080"}},
		{"https", Options{Domains: domain, HTTPS: true, Cert: cert, Key: key}},
		{"https, any host", Options{HTTPS: true, Cert: cert, Key: key, Listen: "[::1]:8080", HTTPSListen: "127.0.0.1:8443"}},
		{"letsencrypt", Options{Domains: domain, LetsEncrypt: true, LetsEncryptDir: le}},
		{"several upstreams", Options{Domains: domain, Upstreams: []string{"10.0.0.2:8000", "10.0.0.3:8000", "[fd00::4]:8000"}}},
		{"packaged paths", Options{Prefix: "/usr/lib/demo", StaticDir: "/usr/share/demo/static", Socket: "/srv/run/demo.sock"}},
		{"uwsgi_pass", Options{Domains: domain, Protocol: "uwsgi"}},
		{"fastcgi_pass, https", Options{Domains: domain, HTTPS: true, Cert: cert, Key: key, Protocol: "fastcgi"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Targets = []string{"nginx"}
			tc.opts.NginxLogDir = logs
			ctx, err := Generate(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := ctx.Files.Get("nginx/demo.conf")
			sites := [][]byte{f.Data}
			if def, ok := ctx.Files.Get(DefaultServerFile); ok {
				sites = append(sites, def.Data)
			} else if len(tc.opts.Domains) > 0 {
				t.Fatalf("--domain without %s", DefaultServerFile)
			}
			if err := CheckNginx(context.Background(), sites...); err != nil {
				t.Fatalf("%v\n--- site:\n%s", err, f.Data)
			}
		})
	}
	// The check is real: a broken site is refused.
	if err := CheckNginx(context.Background(), []byte("server { listen 80; bogus_directive on; }\n")); err == nil {
		t.Error("nginx -t accepted an unknown directive")
	}
}

// installBinary puts an executable where the unit's ExecStart points, as make install would.
func installBinary(t *testing.T, prefix, name string) {
	t.Helper()
	bin := filepath.Join(prefix, "bin", name)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
}

// The units pass `systemd-analyze verify`, and the service scores at most 2.0 in
// `systemd-analyze security`.
func TestSystemdUnits(t *testing.T) {
	testenv.Tool(t, "systemd-analyze")
	prefix := filepath.Join(t.TempDir(), "opt")
	installBinary(t, prefix, "demo")
	projects := map[string]string{}
	for _, tc := range []struct {
		name string
		opts Options
		db   string // the project's --db
	}{
		{"default paths", Options{Prefix: prefix}, ""},
		{"packaged", Options{Prefix: prefix, ConfigDir: "/etc/demo", StaticDir: "/usr/share/demo/static", LogDir: "/srv/log/demo", Socket: "/srv/run/demo.sock", User: "web"}, ""},
		{"sqlite", Options{Prefix: prefix}, state.DatabaseSQLite},
		{"postgres", Options{Prefix: prefix}, state.DatabasePostgres},
		{"remote postgres: LoadCredential=", Options{Prefix: prefix}, "remote"},
	} {
		dir, ok := projects[tc.db]
		if !ok {
			db := tc.db
			if db == "remote" {
				db = state.DatabasePostgres
			}
			dir = newProjectWith(t, project.Options{Name: "demo", Database: db})
			if tc.db == "remote" {
				replace(t, filepath.Join(dir, "config", "config.yaml"), "dsn: postgres:///demo?host=/var/run/postgresql", "dsn: postgres://demo@db.example.com/demo")
			}
			projects[tc.db] = dir
		}
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Targets = []string{"systemd"}
			ctx, err := Generate(dir, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			svc, _ := ctx.Files.Get("systemd/demo.service")
			sock, _ := ctx.Files.Get("systemd/demo.socket")
			if err := CheckSystemd(context.Background(), map[string][]byte{"demo.service": svc.Data, "demo.socket": sock.Data}); err != nil {
				t.Fatal(err)
			}
			score, report, err := SecurityScore(context.Background(), "demo.service", svc.Data)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("systemd-analyze security: overall exposure %.1f", score)
			if score > MaxExposure {
				t.Fatalf("exposure %.1f > %.1f:\n%s", score, MaxExposure, report)
			}
			passed, skipped, err := ctx.Check(context.Background())
			if err != nil || len(skipped) > 0 || len(passed) != 2 { // verify and security: no site here
				t.Fatalf("Check: %v, passed %v, skipped %v", err, passed, skipped)
			}
		})
	}
	// The check is real: a unit whose binary is missing is refused, and Gunicorn's
	// documented unit (no hardening) scores far above the limit.
	err := CheckSystemd(context.Background(), map[string][]byte{"x.service": []byte("[Service]\nExecStart=/nonexistent/x\n")})
	if err == nil {
		t.Error("systemd-analyze verify accepted a missing ExecStart binary")
	}
	score, _, err := SecurityScore(context.Background(), "gunicorn.service", []byte("[Unit]\nDescription=gunicorn\n[Service]\nType=notify\nUser=someone\nExecStart=/bin/true\nExecReload=/bin/kill -s HUP $MAINPID\nKillMode=mixed\nTimeoutStopSec=5\nPrivateTmp=true\n"))
	if err != nil || score <= MaxExposure {
		t.Errorf("unhardened unit scored %.1f (%v)", score, err)
	}
}

// TestSitesShareOneNginx: the sites of several apps on one host, each with --domain, load
// into one nginx beside one default-server.conf, plain and with HTTPS; the catch-all is
// what must be there once (twice is nginx's "duplicate default server").
func TestSitesShareOneNginx(t *testing.T) {
	testenv.Tool(t, "nginx")
	certs := t.TempDir()
	logs := t.TempDir()
	for _, https := range []bool{false, true} {
		var sites [][]byte
		var def []byte
		for _, name := range []string{"shop", "blog", "shop-api"} {
			opts := Options{Targets: []string{"nginx"}, Domains: []string{name + ".example.com"}, Listen: "127.0.0.1:8080", HTTPSListen: "127.0.0.1:8443", NginxLogDir: logs}
			if https {
				opts.HTTPS = true
				opts.Cert, opts.Key = selfSigned(t, certs, name+".example.com", name+".pem", name+".key")
			}
			dir := newProject(t, name)
			if name == "blog" { // mounted under a path: app.root_path
				cfg := filepath.Join(dir, "config", "config.yaml")
				data, _ := os.ReadFile(cfg)
				writeFile(t, cfg, strings.Replace(string(data), `root_path: ""`, "root_path: /blog", 1))
			}
			ctx, err := Generate(dir, opts)
			if err != nil {
				t.Fatal(err)
			}
			f, _ := ctx.Files.Get("nginx/" + name + ".conf")
			if name == "blog" && !strings.Contains(string(f.Data), "location /blog/ {") {
				t.Fatalf("app.root_path /blog: the site has no location /blog/:\n%s", f.Data)
			}
			d, _ := ctx.Files.Get(DefaultServerFile)
			if def != nil && string(d.Data) != string(def) {
				t.Fatalf("%s differs between apps on the same ports, so installing it once would not do", DefaultServerFile)
			}
			sites, def = append(sites, f.Data), d.Data
		}
		if err := CheckNginx(context.Background(), append(sites, def)...); err != nil {
			t.Errorf("https %v: three sites and one default server: %v", https, err)
		}
		if err := CheckNginx(context.Background(), append(sites, def, def)...); err == nil || !strings.Contains(err.Error(), "duplicate default server") {
			t.Errorf("https %v: the default server twice: %v, want nginx's duplicate default server", https, err)
		}
	}
}

func TestToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if err := CheckNginx(context.Background(), nil); !errors.Is(err, ErrToolMissing) {
		t.Errorf("nginx: %v", err)
	}
	if _, _, err := SecurityScore(context.Background(), "x.service", nil); !errors.Is(err, ErrToolMissing) {
		t.Errorf("systemd-analyze: %v", err)
	}
}

// TestExposureFigureAgrees keeps one systemd exposure figure everywhere: the limit the
// tests enforce (the measured score) is the one every file quotes, beside the limit
// --verify holds an edited unit to, always quoted as "at most".
func TestExposureFigureAgrees(t *testing.T) {
	want := fmt.Sprintf("%.1f", MaxExposure)
	edited := fmt.Sprintf("at most %.1f", VerifyMaxExposure)
	figure := regexp.MustCompile(`(?s)exposure.{0,80}?(\d+\.\d)`)
	for _, p := range []string{"../../README.md", "../../templates/project/README.md.tmpl", "../../templates/deploy/README.md.tmpl", "../../templates/deploy/systemd.service.tmpl"} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		found := figure.FindAllSubmatch(data, -1)
		if len(found) == 0 {
			t.Errorf("%s quotes no exposure figure", p)
		}
		for _, m := range found {
			if string(m[1]) != want && !strings.HasSuffix(string(m[0]), edited) {
				t.Errorf("%s says exposure %s; the enforced and measured figure is %s", p, m[1], want)
			}
		}
	}
}
