package prefork

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// writeTestCert writes a self-signed certificate for 127.0.0.1 with the given serial.
func writeTestCert(t *testing.T, dir string, serial int64) (certFile, keyFile string, der []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err = x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile, der
}

func TestCertReloaderServesAndReloads(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, der1 := writeTestCert(t, dir, 1)
	r, err := serving.NewCertReloader(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := serving.NewTLSOptions(serving.Config{Values: Values{HTTPProtocols: "h1,h2"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{TLSConfig: r.TLSConfig(opts), Handler: http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		io.WriteString(w, req.Proto)
	})}
	go srv.ServeTLS(ln, "", "")
	defer srv.Close()

	get := func(der []byte) (string, *big.Int) {
		t.Helper()
		c, _ := x509.ParseCertificate(der)
		pool := x509.NewCertPool()
		pool.AddCert(c)
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b), resp.TLS.PeerCertificates[0].SerialNumber
	}
	proto, serial := get(der1)
	if proto != "HTTP/2.0" || serial.Int64() != 1 {
		t.Fatalf("got %s serial %v, want HTTP/2.0 serial 1", proto, serial)
	}

	// A broken file keeps the old certificate; a renewed one is served after Reload.
	os.WriteFile(certFile, []byte("garbage"), 0o644)
	if err := r.Reload(); err == nil || !strings.Contains(err.Error(), "--certfile") {
		t.Fatalf("broken cert: %v", err)
	}
	if _, serial := get(der1); serial.Int64() != 1 {
		t.Fatal("failed reload replaced the certificate")
	}
	_, _, der2 := writeTestCert(t, dir, 2)
	if err := r.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, serial := get(der2); serial.Int64() != 2 {
		t.Fatalf("after reload serial %v, want 2", serial)
	}

	// Old protocol versions are refused.
	c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11})
	if err == nil {
		c.Close()
		t.Fatal("TLS 1.1 handshake accepted")
	}
}

func TestCertReloaderNeedsBothFiles(t *testing.T) {
	for _, tc := range [][2]string{{"", ""}, {"c.pem", ""}, {"", "k.pem"}, {"/nonexistent/c.pem", "/nonexistent/k.pem"}} {
		if _, err := serving.NewCertReloader(tc[0], tc[1]); err == nil || !strings.Contains(err.Error(), "file") {
			t.Errorf("%q: want an error naming the flags, got %v", tc, err)
		}
	}
}

// writeClientCert writes a client certificate signed by a fresh CA and
// returns the CA file and the client's tls.Certificate.
func writeClientCert(t *testing.T, dir string) (caFile string, client tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "alice"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "client-ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o644)
	return caFile, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

func TestTLSClientCertsCiphersAndHTTP2(t *testing.T) {
	dir := t.TempDir()
	cert, key, der := writeTestCert(t, dir, 1)
	caFile, client := writeClientCert(t, dir)
	addr := serveInProcess(t, Config{Values: Values{CertFile: cert, KeyFile: key, CertReqs: 2, CACerts: caFile}}, "tcp")
	roots := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	roots.AddCert(c)
	get := func(tc *tls.Config) (*http.Response, string, error) {
		tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + addr + "/")
		if err != nil {
			return nil, "", err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b), nil
	}
	if _, _, err := get(&tls.Config{RootCAs: roots}); err == nil {
		t.Error("--cert-reqs 2: a client without a certificate was served")
	}
	resp, body, err := get(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{client}})
	if err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	if resp.ProtoMajor != 2 || !strings.Contains(body, "cn=alice") {
		t.Errorf("want HTTP/2 and the client's name: %s %s", resp.Proto, body)
	}
	// no CBC suite is offered by default, TLS 1.3 is
	_, _, err = get(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{client}, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}})
	if err == nil {
		t.Error("a CBC-only TLS 1.2 client was served")
	}
	resp, _, err = get(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{client}, MinVersion: tls.VersionTLS13})
	if err != nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Errorf("TLS 1.3: %v", err)
	}
	// --http-protocols h1: no h2 by ALPN
	h1 := serveInProcess(t, Config{Values: Values{CertFile: cert, KeyFile: key, HTTPProtocols: "h1"}}, "tcp")
	addr = h1
	if resp, _, err := get(&tls.Config{RootCAs: roots}); err != nil || resp.ProtoMajor != 1 {
		t.Errorf("--http-protocols h1 served %v %v", resp.Proto, err)
	}
}
