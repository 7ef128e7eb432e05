package serving

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// CertReloader serves a certificate/key pair loaded from files and reloads
// it on demand (HUP), so a renewed certificate (certbot) is picked up
// without a restart. A reload that fails keeps the previous pair.
type CertReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

// NewCertReloader loads --certfile and --keyfile; both are required together.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, errors.New("prefork: TLS needs --certfile and --keyfile")
	case certFile == "":
		return nil, fmt.Errorf("prefork: --keyfile %s given without --certfile", keyFile)
	case keyFile == "":
		return nil, fmt.Errorf("prefork: --certfile %s given without --keyfile", certFile)
	}
	r := &CertReloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files again.
func (r *CertReloader) Reload() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("prefork: load --certfile %s / --keyfile %s: %w", r.certFile, r.keyFile, err)
	}
	r.mu.Lock()
	r.cert = &cert
	r.mu.Unlock()
	return nil
}

// GetCertificate is the tls.Config hook.
func (r *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// TLSOptions are the settings of the TLS a serving process offers.
type TLSOptions struct {
	ciphers  []uint16
	clientCA *x509.CertPool
	certReqs int
	h1, h2   bool
}

func NewTLSOptions(c Config) (TLSOptions, error) {
	o := TLSOptions{certReqs: c.CertReqs}
	ciphers := c.Ciphers
	if ciphers == "" {
		ciphers = settings.DefaultCiphers
	}
	var err error
	if o.ciphers, err = settings.ParseCiphers(ciphers); err != nil {
		return o, fmt.Errorf("prefork: --ciphers: %w", err)
	}
	if c.CACerts != "" {
		if o.clientCA, err = settings.LoadCertPool(c.CACerts); err != nil {
			return o, err
		}
	}
	protos := c.HTTPProtocols
	if protos == "" {
		protos = settings.DefaultHTTPProtocols
	}
	o.h1, o.h2 = strings.Contains(protos, "h1"), strings.Contains(protos, "h2")
	return o, nil
}

// TLSConfig returns a server configuration with Mozilla's "intermediate"
// profile: TLS 1.2 (AEAD suites with forward secrecy unless --ciphers says
// otherwise, no CBC) and TLS 1.3, HTTP/2 and HTTP/1.1 by ALPN as
// --http-protocols allows, client certificates as --cert-reqs asks, and the
// certificate from this reloader.
func (r *CertReloader) TLSConfig(o TLSOptions) *tls.Config {
	tc := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		CipherSuites:   o.ciphers,
		GetCertificate: r.GetCertificate,
		ClientCAs:      o.clientCA,
	}
	if o.h2 {
		tc.NextProtos = append(tc.NextProtos, "h2")
	}
	if o.h1 {
		tc.NextProtos = append(tc.NextProtos, "http/1.1")
	}
	switch o.certReqs {
	case 1:
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	case 2:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc
}
