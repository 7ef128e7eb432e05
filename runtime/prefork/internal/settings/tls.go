package settings

import (
	"crypto/x509"
	"fmt"
	"os"
)

// LoadCertPool reads --ca-certs: the one check that the file holds PEM certificates.
func LoadCertPool(path string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prefork: --ca-certs: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("prefork: --ca-certs %s: no PEM certificate in it", path)
	}
	return pool, nil
}
