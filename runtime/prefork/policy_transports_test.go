package prefork

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/rawhttp"
)

// policyRequest is one request a test sends over every transport: its
// method, target and header fields in the transport's own form.
type policyRequest struct {
	method, target string
	fields         [][2]string // canonical names
}

// policyTransport sends a policyRequest over one path in and returns the
// status and the body of the answer.
type policyTransport struct {
	name   string
	cfg    Config
	scheme string // what the app must see as the scheme of a plain request
	send   func(t *testing.T, addr string, r policyRequest) (int, string)
}

// policyTransports are the paths in: HTTP/1.1, PROXY protocol, HTTP/1.1 and
// HTTP/2 over TLS, h2c prior knowledge (only for a trusted client, as
// Gunicorn 26.2 grants it), uwsgi and FastCGI. trust is
// --forwarded-allow-ips: the client (127.0.0.1, or the address a PROXY
// header, uwsgi or FastCGI variable names) is trusted or not by it.
func policyTransports(t *testing.T, trust string) []policyTransport {
	dir := t.TempDir()
	cert, key, der := writeTestCert(t, dir, 1)
	roots := x509.NewCertPool()
	c, _ := x509.ParseCertificate(der)
	roots.AddCert(c)
	v := Values{ForwardedAllowIPs: trust, ProxyAllowFrom: "127.0.0.1"}
	with := func(f func(*Values)) Config {
		c := v
		f(&c)
		return Config{Values: c}
	}
	raw := func(prefix string) func(t *testing.T, addr string, r policyRequest) (int, string) {
		return func(t *testing.T, addr string, r policyRequest) (int, string) {
			var b strings.Builder
			b.WriteString(prefix + r.method + " " + r.target + " HTTP/1.1\r\nHost: example.org\r\n")
			for _, f := range r.fields {
				b.WriteString(f[0] + ": " + f[1] + "\r\n")
			}
			resps := rawExchange(t, addr, b.String()+"\r\n")
			if len(resps) == 0 {
				t.Fatal("no response")
			}
			return resps[0].StatusCode, rawhttp.Body(resps[0])
		}
	}
	client := func(tr *http.Transport, scheme string, proto int) func(t *testing.T, addr string, r policyRequest) (int, string) {
		return func(t *testing.T, addr string, r policyRequest) (int, string) {
			req, err := http.NewRequest(r.method, scheme+"://"+addr+r.target, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "example.org"
			for _, f := range r.fields {
				req.Header.Add(f[0], f[1])
			}
			resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.ProtoMajor != proto {
				t.Fatalf("answered over %s, want HTTP/%d", resp.Proto, proto)
			}
			return resp.StatusCode, string(b)
		}
	}
	var h1, h2, h2c http.Protocols
	h1.SetHTTP1(true)
	h2.SetHTTP2(true)
	h2c.SetUnencryptedHTTP2(true)
	tlsConf := &tls.Config{RootCAs: roots}
	// the variables nginx sends for a request, the fields as HTTP_ ones
	gatewayVars := func(r policyRequest) [][2]string {
		vars := nginxVars(r.method, r.target)
		for i := range vars {
			if vars[i][0] == "REMOTE_ADDR" {
				vars[i][1] = "127.0.0.1"
			}
		}
		for _, f := range r.fields {
			vars = append(vars, [2]string{"HTTP_" + strings.ToUpper(strings.ReplaceAll(f[0], "-", "_")), f[1]})
		}
		return vars
	}
	cgiStatus := regexp.MustCompile(`(?m)^Status: (\d+)`)
	return []policyTransport{
		{name: "HTTP/1.1", cfg: with(func(*Values) {}), scheme: "http", send: raw("")},
		{name: "PROXY protocol", cfg: with(func(v *Values) { v.ProxyProtocol = true }), scheme: "http",
			send: raw("PROXY TCP4 127.0.0.1 127.0.0.1 40000 8000\r\n")},
		{name: "HTTP/1.1 over TLS", cfg: with(func(v *Values) { v.CertFile, v.KeyFile = cert, key }), scheme: "https",
			send: client(&http.Transport{TLSClientConfig: tlsConf, Protocols: &h1}, "https", 1)},
		{name: "HTTP/2 over TLS", cfg: with(func(v *Values) { v.CertFile, v.KeyFile = cert, key }), scheme: "https",
			send: client(&http.Transport{TLSClientConfig: tlsConf, Protocols: &h2}, "https", 2)},
		{name: "h2c prior knowledge", cfg: with(func(v *Values) { v.HTTP2Cleartext = H2CPriorKnowledge }), scheme: "http",
			send: client(&http.Transport{Protocols: &h2c}, "http", 2)},
		{name: "uwsgi", cfg: with(func(v *Values) { v.Protocol = "uwsgi" }), scheme: "http",
			send: func(t *testing.T, addr string, r policyRequest) (int, string) {
				out, err := uwsgiRequest(t, "tcp", addr, gatewayVars(r), "")
				if err != nil {
					t.Fatal(err)
				}
				resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(out)), nil)
				if err != nil {
					t.Fatalf("%v: %q", err, out)
				}
				return resp.StatusCode, rawhttp.Body(resp)
			}},
		{name: "FastCGI", cfg: with(func(v *Values) { v.Protocol = "fastcgi" }), scheme: "http",
			send: func(t *testing.T, addr string, r policyRequest) (int, string) {
				out, err := fcgiRequest(t, "tcp", addr, gatewayVars(r), "")
				if err != nil {
					t.Fatal(err)
				}
				head, body, _ := strings.Cut(out, "\r\n\r\n")
				status := 200
				if m := cgiStatus.FindStringSubmatch(head); m != nil {
					status, _ = strconv.Atoi(m[1])
				}
				return status, body
			}},
	}
}

// TestRequestPolicyEveryTransport sends the same forged and invalid
// requests over every path in and asserts the same outcome: forwarded
// headers from an untrusted client dropped and the scheme the transport's,
// contradictory scheme headers from a trusted one refused, the limits
// (414, 431) and the method rule applied, and the app never seeing a
// refused request. A Transfer-Encoding means something different per
// path: TestTransferCodingsEveryTransport asserts it on each.
func TestRequestPolicyEveryTransport(t *testing.T) {
	many := make([][2]string, 0, 120)
	for i := range 120 {
		many = append(many, [2]string{fmt.Sprintf("X-Field-%03d", i), "v"})
	}
	forged := [][2]string{{"X-Forwarded-For", "198.51.100.66"}, {"X-Forwarded-Proto", "https"}, {"Traceparent", testTraceparent}}
	const untrusted, trusted, either = 0, 1, 2 // either: run with the trusted client, h2c's only
	cases := []struct {
		name   string
		trust  int
		req    policyRequest
		status int
		body   string // a regexp the answer's body must match; %s is the transport's scheme
	}{
		{"forged forwarded headers from an untrusted client", untrusted, policyRequest{"GET", "/forged", forged}, 200,
			`path=/forged .*scheme=%s .*xff="" traceparent=""`},
		{"contradictory scheme headers from a trusted client", trusted,
			policyRequest{"GET", "/", [][2]string{{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Ssl", "off"}}}, 400, "Contradictory scheme headers"},
		{"request line over limit_request_line", either, policyRequest{"GET", "/" + strings.Repeat("a", 4200), nil}, 414, "Request Line is too large"},
		{"over limit_request_fields", either, policyRequest{"GET", "/", many}, 431, "limit request headers fields"},
		{"a field over limit_request_field_size", either, policyRequest{"GET", "/", [][2]string{{"X-Big", strings.Repeat("b", 9000)}}}, 431, "limit request headers fields size"},
		{"a lower-case method", either, policyRequest{"get", "/", nil}, 400, "Invalid HTTP method"},
	}
	for _, trust := range []int{untrusted, trusted} {
		allow := "none"
		if trust == trusted {
			allow = "127.0.0.1"
		}
		for _, tr := range policyTransports(t, allow) {
			if trust == untrusted && tr.name == "h2c prior knowledge" {
				continue // an untrusted client's preface meets the HTTP/1 checks: the settings' own test
			}
			var seen atomic.Int64
			addr := serveAppInProcess(t, tr.cfg, "tcp", func() (http.Handler, error) {
				echo, _ := echoApp()
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					seen.Add(1)
					echo.ServeHTTP(w, r)
				}), nil
			})
			for _, tc := range cases {
				if tc.trust != trust && !(tc.trust == either && trust == trusted) {
					continue
				}
				t.Run(tr.name+"/"+tc.name, func(t *testing.T) {
					before := seen.Load()
					status, body := tr.send(t, addr, tc.req)
					if status != tc.status || !regexp.MustCompile(strings.ReplaceAll(tc.body, "%s", tr.scheme)).MatchString(body) {
						t.Fatalf("%d %.300q, want %d matching %q", status, body, tc.status, tc.body)
					}
					if n := seen.Load() - before; (status == 200) != (n == 1) {
						t.Errorf("the app saw %d requests, answered %d", n, status)
					}
				})
			}
		}
	}
}
