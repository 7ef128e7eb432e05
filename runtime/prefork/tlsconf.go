package prefork

import (
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
)

// certReloader serves a certificate/key pair loaded from files and reloads
// it on demand (HUP), so a renewed certificate (certbot) is picked up
// without a restart. A reload that fails keeps the previous pair.
type certReloader struct {
	certFile, keyFile string
	mu                sync.RWMutex
	cert              *tls.Certificate
}

// newCertReloader loads --certfile and --keyfile; both are required together.
func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	switch {
	case certFile == "" && keyFile == "":
		return nil, errors.New("prefork: TLS needs --certfile and --keyfile")
	case certFile == "":
		return nil, fmt.Errorf("prefork: --keyfile %s given without --certfile", keyFile)
	case keyFile == "":
		return nil, fmt.Errorf("prefork: --certfile %s given without --keyfile", certFile)
	}
	r := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Reload reads the files again.
func (r *certReloader) Reload() error {
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
func (r *certReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.cert, nil
}

// TLSConfig returns a server configuration with modern defaults: TLS 1.2
// at least (Go's default 1.2 cipher suites are all AEAD with forward
// secrecy; 1.3 is preferred and its suites are not configurable), HTTP/2
// and HTTP/1.1 by ALPN, and the certificate from this reloader.
func (r *certReloader) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
}
