package serving

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// FuzzStrictConnAgreesWithNetHTTP: whatever the connection reader lets
// through, net/http reading the same bytes directly sees the same requests
// (method, target, body): the policy never frames a request differently
// from the parser behind it, the way a smuggling proxy would.
func FuzzStrictConnAgreesWithNetHTTP(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		chunkedHead + "5;a=b\r\nhello\r\n0\r\nX-T: 1\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n b\r\n\r\n",
		chunkedHead + "+5\r\nhello\r\n0\r\n\r\n",
		"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	cfg := testConfig(f, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	p := newRequestPolicy(cfg, nil)
	f.Fuzz(func(t *testing.T, raw []byte) {
		sc := &strictConn{Conn: &readerConn{r: bytes.NewReader(raw)}, p: p, first: true, chunk: chunkScanner{p: p}, trust: -1}
		strict, plain := bufio.NewReader(sc), bufio.NewReader(bytes.NewReader(raw))
		for range 8 {
			rs, err := http.ReadRequest(strict)
			if err != nil || rs.Method == refusedMethod {
				return
			}
			rp, err := http.ReadRequest(plain)
			if err != nil {
				return // net/http refuses what the policy let through: it answers that itself
			}
			if rs.Method != rp.Method || rs.RequestURI != rp.RequestURI {
				t.Fatalf("the policy passed %s %s, net/http reads %s %s", rs.Method, rs.RequestURI, rp.Method, rp.RequestURI)
			}
			bs, errS := io.ReadAll(rs.Body)
			bp, errP := io.ReadAll(rp.Body)
			if errS != nil {
				return // a body that broke the framing ends the connection
			}
			if errP != nil || !bytes.Equal(bs, bp) {
				t.Fatalf("body through the policy %q, net/http reads %q (%v)", bs, bp, errP)
			}
		}
	})
}

// readerConn is a connection whose peer sent r and then closed.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// flakyListener fails its first Accept as a listener out of descriptors does.
type flakyListener struct {
	net.Listener
	failed atomic.Bool
}

// TestStrictTLSListenerOutlivesAcceptErrors: an Accept error other than
// the listener's closing is waited out, as net/http's Serve does, and
// Close ends Accept.
func TestStrictTLSListenerOutlivesAcceptErrors(t *testing.T) {
	cert, key, der := testCertFiles(t, t.TempDir())
	pair, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	var logged atomic.Int32
	sl := newStrictTLSListener(&flakyListener{Listener: ln}, &tls.Config{Certificates: []tls.Certificate{pair}}, newRequestPolicy(cfg, nil), nil, 5*time.Second,
		func(string, ...any) { logged.Add(1) })
	roots := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	roots.AddCert(c)
	go func() {
		if tc, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots}); err == nil {
			defer tc.Close()
			io.Copy(io.Discard, tc)
		}
	}()
	conn, err := sl.Accept()
	if err != nil {
		t.Fatalf("after one failed accept: %v", err)
	}
	conn.Close()
	if logged.Load() != 1 {
		t.Errorf("%d log lines for one failed accept, want 1", logged.Load())
	}
	sl.Close()
	if _, err := sl.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if !l.failed.Swap(true) {
		return nil, syscall.EMFILE
	}
	return l.Listener.Accept()
}

const chunkedHead = "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
