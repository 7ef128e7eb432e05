package serving

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/rawhttp"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// corpusDir holds the project's own request corpus (testdata/requests/README.md):
// invalid/ has one request per rule Gunicorn 26.1 and 27.0 enforce, each with the
// status Gunicorn answers; valid/ has requests that must still be served.
const corpusDir = "testdata/requests"

// corpusCase is one .http file: the rule in its first comment line, then
// "# status: N" (invalid) or one "# expect: STATUS [BODY]" per response
// (valid), then the request.
type corpusCase struct {
	rule   string
	status int      // invalid: the refusal's status
	expect []string // valid: "STATUS" or "STATUS BODY", one per response
	raw    []byte
}

var corpusRepeat = regexp.MustCompile(`\{\{(\d+)\*([^}]*)\}\}`)

// readCorpusCase parses a corpus file: newlines in the request are layout
// only; \r \n \t \0 \xHH \\ are the bytes (in the request and in an
// expected body); {{N*text}} is text N times.
func readCorpusCase(path string) (corpusCase, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return corpusCase{}, err
	}
	var c corpusCase
	lines := strings.SplitAfter(string(b), "\n")
	for len(lines) > 0 && strings.HasPrefix(lines[0], "#") {
		line := strings.TrimSpace(strings.TrimPrefix(lines[0], "#"))
		lines = lines[1:]
		switch {
		case strings.HasPrefix(line, "status:"):
			if c.status, err = strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "status:"))); err != nil {
				return c, fmt.Errorf("%s: status: %v", path, err)
			}
		case strings.HasPrefix(line, "expect:"):
			c.expect = append(c.expect, strings.TrimSpace(strings.TrimPrefix(line, "expect:")))
		case c.rule == "":
			c.rule = line
		default:
			return c, fmt.Errorf("%s: unknown comment %q (want status: or expect:)", path, line)
		}
	}
	text := strings.ReplaceAll(strings.Join(lines, ""), "\n", "")
	text = corpusRepeat.ReplaceAllStringFunc(text, func(m string) string {
		sub := corpusRepeat.FindStringSubmatch(m)
		n, _ := strconv.Atoi(sub[1])
		return strings.Repeat(sub[2], n)
	})
	if c.raw, err = corpusBytes(text); err != nil {
		return c, fmt.Errorf("%s: %v", path, err)
	}
	for i, e := range c.expect { // a body may hold bytes too (gzip)
		b, err := corpusBytes(e)
		if err != nil {
			return c, fmt.Errorf("%s: expect: %v", path, err)
		}
		c.expect[i] = string(b)
	}
	if c.rule == "" || len(c.raw) == 0 || (c.status == 0) == (len(c.expect) == 0) {
		return c, fmt.Errorf("%s: want a rule comment, a request, and either status: or expect: lines", path)
	}
	return c, nil
}

// corpusBytes reads the escapes of a corpus file: \r \n \t \0 \xHH \\.
func corpusBytes(text string) ([]byte, error) {
	var b []byte
	for i := 0; i < len(text); i++ {
		if text[i] != '\\' {
			b = append(b, text[i])
			continue
		}
		if i++; i == len(text) {
			return nil, fmt.Errorf("a backslash ends the text")
		}
		switch text[i] {
		case 'r':
			b = append(b, '\r')
		case 'n':
			b = append(b, '\n')
		case 't':
			b = append(b, '\t')
		case '0':
			b = append(b, 0)
		case '\\':
			b = append(b, '\\')
		case 'x':
			v, err := strconv.ParseUint(text[i+1:min(i+3, len(text))], 16, 8)
			if err != nil {
				return nil, fmt.Errorf("bad \\x escape at byte %d", i)
			}
			b = append(b, byte(v))
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c", text[i])
		}
	}
	return b, nil
}

// TestRequestCorpus sends each request of the corpus raw to the production
// serving chain with default settings, over plain TCP, HTTP/1.1 over TLS and
// behind a PROXY protocol header: every invalid one refused with its status
// and Connection: close before the app sees it, every valid one served with
// what the app read.
func TestRequestCorpus(t *testing.T) {
	for _, tr := range http1Paths(t) {
		t.Run(tr.name, func(t *testing.T) { runCorpus(t, tr.cfg, tr.dial, tr.prefix) })
	}
}

// http1Path is one way in for raw HTTP/1 bytes: plain TCP, TLS (ALPN
// http/1.1), or behind a PROXY protocol header (prefix).
type http1Path struct {
	name   string
	cfg    settings.Values
	dial   func(addr string) (net.Conn, error)
	prefix string
}

func http1Paths(t *testing.T) []http1Path {
	dir := t.TempDir()
	cert, key, der := testCertFiles(t, dir)
	roots := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	roots.AddCert(c)
	return []http1Path{
		{name: "tcp", dial: func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }},
		{name: "tls", cfg: settings.Values{CertFile: cert, KeyFile: key}, dial: func(addr string) (net.Conn, error) {
			return tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, NextProtos: []string{"http/1.1"}})
		}},
		{name: "proxy", cfg: settings.Values{ProxyProtocol: true}, prefix: "PROXY TCP4 127.0.0.1 127.0.0.1 40000 8000\r\n",
			dial: func(addr string) (net.Conn, error) { return net.DialTimeout("tcp", addr, 5*time.Second) }},
	}
}

func runCorpus(t *testing.T, cfg settings.Values, dial func(addr string) (net.Conn, error), prefix string) {
	app := &rawhttp.CountingApp{}
	addr := policyServer(t, cfg, app)
	for _, kind := range []string{"invalid", "valid"} {
		files, err := filepath.Glob(filepath.Join(corpusDir, kind, "*.http"))
		if err != nil || len(files) < 20 {
			t.Fatalf("%s: %d cases (%v): the corpus is missing", kind, len(files), err)
		}
		for _, f := range files {
			t.Run(kind+"/"+strings.TrimSuffix(filepath.Base(f), ".http"), func(t *testing.T) {
				c, err := readCorpusCase(f)
				if err != nil {
					t.Fatal(err)
				}
				if (kind == "invalid") != (c.status != 0) {
					t.Fatalf("an %s case says status %d and expect %q", kind, c.status, c.expect)
				}
				before := app.Seen.Load()
				resps := rawhttp.Exchange(t, func() (net.Conn, error) { return dial(addr) }, prefix+string(c.raw))
				var got []string
				for _, r := range resps {
					got = append(got, fmt.Sprint(r.StatusCode, " ", rawhttp.Body(r)))
				}
				if kind == "invalid" {
					if len(resps) != 1 || resps[0].StatusCode != c.status {
						t.Fatalf("%s\nresponses %q, want one %d", c.rule, got, c.status)
					}
					if !resps[0].Close {
						t.Errorf("%s: refusal without Connection: close", c.rule)
					}
					if n := app.Seen.Load() - before; n != 0 {
						t.Errorf("%s: the app saw the request", c.rule)
					}
					return
				}
				if len(got) != len(c.expect) {
					t.Fatalf("%s\nresponses %q, want %q", c.rule, got, c.expect)
				}
				for i, want := range c.expect {
					if got[i] != want && !(!strings.Contains(want, " ") && strings.HasPrefix(got[i], want+" ")) {
						t.Errorf("%s\nresponse %d: %q, want %q", c.rule, i, got[i], want)
					}
				}
			})
		}
	}
}

// FuzzPolicyConversionsAgree: a head the HTTP/1 reader passes (checkHead on
// the bytes) also passes the check the other transports get (checkRequest
// on what net/http parsed of the same bytes), so the two conversions into
// headCheck cannot drift apart. Seeded with the whole corpus.
func FuzzPolicyConversionsAgree(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.http"))
	for _, file := range files {
		c, err := readCorpusCase(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.raw)
	}
	if len(files) < 100 {
		f.Fatalf("%d corpus files seeded: the corpus is missing", len(files))
	}
	cfg := testConfig(f, settings.Values{Bind: []string{"127.0.0.1:0"}, Workers: 1}, Hooks{})
	p := newRequestPolicy(cfg, []string{"Script_name", "Path_info"})
	f.Fuzz(func(t *testing.T, raw []byte) {
		h, ref := p.checkHead(raw, true)
		if ref != nil || h.size == 0 || h.noHost {
			return
		}
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw[:h.size])))
		if err != nil {
			return // net/http refuses it itself
		}
		if ref := p.checkRequest(r, true); ref != nil {
			t.Fatalf("the HTTP/1 reader passes %q, the parsed check refuses it: %d %s", raw[:h.size], ref.status, ref.reason)
		}
	})
}

// TestCorpusMapFiles keeps the README's table of Gunicorn's corpus honest:
// every file of ours it names exists, and where the row gives a status for
// an invalid file, that is the status the file asserts.
func TestCorpusMapFiles(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(corpusDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := 0
	for _, line := range strings.Split(string(readme), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 5 || !strings.HasPrefix(line, "| ") || strings.HasPrefix(line, "| Gunicorn case") {
			continue
		}
		rows++
		status, _, _ := strings.Cut(strings.TrimSpace(cells[3]), ";") // "400; over HTTP/2 ..."
		for _, name := range strings.Split(cells[2], ",") {
			name = strings.TrimSpace(name)
			if name == "—" {
				continue
			}
			c, err := readCorpusCase(filepath.Join(corpusDir, name))
			if err != nil {
				t.Errorf("README row %q: %v", strings.TrimSpace(cells[1]), err)
				continue
			}
			if want, err := strconv.Atoi(status); err == nil && strings.HasPrefix(name, "invalid/") && c.status != want {
				t.Errorf("README row %q: %s asserts status %d, the row says %d", strings.TrimSpace(cells[1]), name, c.status, want)
			}
		}
	}
	if rows < 100 {
		t.Fatalf("%d rows in the README's table of Gunicorn's corpus: the table is missing", rows)
	}
}
