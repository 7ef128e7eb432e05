package prefork

import (
	"bytes"
	"encoding/hex"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// gunicornCorpora are where Gunicorn's tests/requests (invalid/ and valid/, with its
// LICENSE) are looked for: the peer copy laid beside the repository as ../shared (whose
// Gunicorn 26.1 has no tests/ folder yet), then testdata. Nothing here copies it.
var gunicornCorpora = []string{"../../../shared/peers/gunicorn-26.1/tests/requests", "testdata/gunicorn-requests"}

var hexEscape = regexp.MustCompile(`\\x[0-9A-Fa-f]{2}`)

// gunicornStatus maps Gunicorn's parser exceptions to the status its
// workers answer with (workers/base.py handle_error), LimitRequestLine as
// of 27.0 (414). The chunked-body errors are raised by the body's reader
// in Gunicorn; here they are refused with 400.
var gunicornStatus = map[string]int{
	"InvalidRequestLine": 400, "InvalidRequestMethod": 400, "InvalidHTTPVersion": 400,
	"InvalidHeader": 400, "InvalidHeaderName": 400, "ObsoleteFolding": 400,
	"LimitRequestLine": 414, "LimitRequestHeaders": 431, "UnsupportedTransferCoding": 501,
	"ExpectationFailed": 417, "InvalidSchemeHeaders": 400,
	"InvalidChunkSize": 400, "ChunkMissingTerminator": 400, "InvalidChunkExtension": 400, "NoMoreData": 400,
}

// TestGunicornRequestCorpus sends each request of Gunicorn's corpus raw
// to the runtime with default settings: every invalid one refused with
// Gunicorn's status, every valid one served. Cases whose .py sets a
// non-default configuration (cfg.set) are skipped by name.
func TestGunicornRequestCorpus(t *testing.T) {
	i := slices.IndexFunc(gunicornCorpora, func(dir string) bool {
		_, err := os.Stat(filepath.Join(dir, "invalid"))
		return err == nil
	})
	if i < 0 {
		t.Skipf("Gunicorn's request corpus is in none of %v: the hand-written cases of TestRequestPolicyRefuses stand in", gunicornCorpora)
	}
	gunicornCorpus := gunicornCorpora[i]
	app := &countingApp{}
	addr := policyServer(t, Config{}, app)
	expectRE := regexp.MustCompile(`(?m)^request\s*=\s*(\w+)`)
	for _, kind := range []string{"invalid", "valid"} {
		files, _ := filepath.Glob(filepath.Join(gunicornCorpus, kind, "*.http"))
		for _, f := range files {
			name := kind + "/" + filepath.Base(f)
			t.Run(name, func(t *testing.T) {
				py, err := os.ReadFile(strings.TrimSuffix(f, ".http") + ".py")
				if err != nil {
					t.Skip("no expectation file")
				}
				if bytes.Contains(py, []byte("cfg.set")) || bytes.Contains(py, []byte("cfg = ")) {
					t.Skip("needs a non-default configuration")
				}
				raw, _ := os.ReadFile(f)
				raw = bytes.ReplaceAll(raw, []byte("\n"), nil)
				raw = bytes.ReplaceAll(raw, []byte(`\r\n`), []byte("\r\n"))
				raw = bytes.ReplaceAll(raw, []byte(`\0`), []byte("\x00"))
				raw = hexEscape.ReplaceAllFunc(raw, func(m []byte) []byte { // \x0D
					b, _ := hex.DecodeString(string(m[2:]))
					return b
				})
				resps := rawExchange(t, addr, string(raw))
				if kind == "valid" {
					if len(resps) == 0 {
						t.Fatal("no response")
					}
					for _, r := range resps {
						if r.StatusCode != 200 {
							t.Errorf("status %d: %s", r.StatusCode, bodyOf(r))
						}
					}
					return
				}
				m := expectRE.FindSubmatch(py)
				if m == nil {
					t.Fatalf("no exception named in %s", py)
				}
				want, ok := gunicornStatus[string(m[1])]
				if !ok {
					t.Fatalf("no status known for %s", m[1])
				}
				if len(resps) == 0 {
					t.Fatalf("no response, want %d (%s)", want, m[1])
				}
				if got := resps[0].StatusCode; got != want {
					t.Errorf("status %d (%s), want %d (%s)", got, bodyOf(resps[0]), want, m[1])
				}
			})
		}
	}
}

// readerConn is a connection whose peer sent r and then closed.
type readerConn struct {
	net.Conn
	r io.Reader
}

func (c *readerConn) Read(p []byte) (int, error) { return c.r.Read(p) }
