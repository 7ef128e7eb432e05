package serving

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// testConfig is v with the defaults of the settings the serving chain reads
// (settings.Defaults, settings.GunicornDefaults, as prefork's withDefaults
// applies them), its peer lists parsed, and h.
func testConfig(t testing.TB, v settings.Values, h Hooks) Config {
	t.Helper()
	settings.Defaults(&v)
	if err := settings.GunicornDefaults(&v); err != nil {
		t.Fatal(err)
	}
	peers, err := ParsePeers(&v)
	if err != nil {
		t.Fatal(err)
	}
	return Config{Values: v, Hooks: h, Peers: peers}
}

// newTestLogger logs into the test's output.
func newTestLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// policyServer serves app on the production serving path (NewServingProc, as
// a worker does) with v's settings, defaults for the rest, until the test ends.
func policyServer(t *testing.T, v settings.Values, app http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lg := &observe.Log{Logger: newTestLogger(t), Out: io.Discard}
	sp, _, err := NewServingProc(testConfig(t, v, Hooks{}), func() (http.Handler, error) { return app, nil }, []net.Listener{ln}, []string{ln.Addr().String()}, lg)
	if err != nil {
		t.Fatal(err)
	}
	sp.Srv.Start()
	t.Cleanup(func() { sp.Srv.Close(); sp.Close() })
	return ln.Addr().String()
}

// testCertFiles writes net/http/httptest's self-signed certificate for
// 127.0.0.1 and its key into dir, for --certfile and --keyfile.
func testCertFiles(t testing.TB, dir string) (certFile, keyFile string, der []byte) {
	t.Helper()
	ts := httptest.NewUnstartedServer(http.NotFoundHandler())
	ts.StartTLS()
	ts.Close()
	pair := ts.TLS.Certificates[0]
	key, err := x509.MarshalPKCS8PrivateKey(pair.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	der = pair.Certificate[0]
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for f, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "PRIVATE KEY", Bytes: key}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, der
}
