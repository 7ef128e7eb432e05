package prefork

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/observe"
)

// --http2-cleartext takes Gunicorn 26.2's four modes, from every source, in one spelling.
func TestHTTP2CleartextModes(t *testing.T) {
	for _, tc := range []struct{ given, printed string }{
		{"off", "off"}, {"false", "off"}, {"prior-knowledge", "prior-knowledge"}, {"true", "prior-knowledge"},
		{"upgrade", "upgrade"}, {"both", "both"}, {"BOTH", "both"}, {" Upgrade ", "upgrade"},
	} {
		var c Config
		if _, err := parseGunicorn(&c, "", "--http2-cleartext="+tc.given); err != nil {
			t.Errorf("--http2-cleartext=%q: %v", tc.given, err)
			continue
		}
		if got := printed(c); !strings.Contains(got, "http2_cleartext = "+tc.printed+"\n") {
			t.Errorf("--http2-cleartext=%q: --print-config lacks %q", tc.given, tc.printed)
		}
		var e Config
		if _, err := parseGunicorn(&e, "'--http2-cleartext="+tc.given+"'"); err != nil || e.HTTP2Cleartext != c.HTTP2Cleartext {
			t.Errorf("GUNICORN_CMD_ARGS --http2-cleartext %q: %q %v, the flag gave %q", tc.given, e.HTTP2Cleartext, err, c.HTTP2Cleartext)
		}
		// a Go caller (or a Reload) gets the same rule and spelling
		d, err := Config{Values: Values{Workers: 1, HTTP2Cleartext: tc.given}}.withDefaults()
		if err != nil || d.SettingValue("http2-cleartext") != tc.printed {
			t.Errorf("Values{HTTP2Cleartext: %q}: %q %v, want %q", tc.given, d.SettingValue("http2-cleartext"), err, tc.printed)
		}
	}
	var alone Config
	if _, err := parseGunicorn(&alone, "", "--http2-cleartext"); err != nil || alone.HTTP2Cleartext != H2CPriorKnowledge {
		t.Errorf("--http2-cleartext alone: %q %v, want prior-knowledge", alone.HTTP2Cleartext, err)
	}
	var bad Config
	_, err := parseGunicorn(&bad, "", "--http2-cleartext=sideways")
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(ue.Msg, `invalid value "sideways" for --http2-cleartext: must be off, prior-knowledge, upgrade or both`) {
		t.Errorf("--http2-cleartext sideways: %v", err)
	}
	if _, err := (Config{Values: Values{Workers: 1, HTTP2Cleartext: "sideways"}}).withDefaults(); err == nil || !strings.Contains(err.Error(), "http2-cleartext") {
		t.Errorf("Values{HTTP2Cleartext: sideways}: %v, want an error naming the setting", err)
	}
	if _, err := (Config{Values: Values{Workers: 1, HTTP2Cleartext: H2CUpgrade, HTTPProtocols: "h1"}}).withDefaults(); err == nil || !strings.Contains(err.Error(), "needs h2 in --http-protocols") {
		t.Errorf("upgrade with --http-protocols h1: %v, want refused", err)
	}
	help, err := parseGunicorn(&Config{}, "", "-h")
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	h := strings.Join(strings.Fields(help), " ")
	for _, want := range []string{"upgrade (an HTTP/1.1 Upgrade: h2c request)", "Only peers in --forwarded-allow-ips get it", "served over HTTP/1.1"} {
		if !strings.Contains(h, want) {
			t.Errorf("-h lacks %q", want)
		}
	}
}

// h2cAttempt opens HTTP/2 with prior knowledge to addr: the protocol the answer came
// in, or the error.
func h2cAttempt(addr string) (string, error) {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	client := &http.Client{Transport: &http.Transport{Protocols: &p}, Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.Proto, nil
}

// firstAnswerLine sends raw on a fresh connection and returns the first line answered.
func firstAnswerLine(t *testing.T, addr, raw string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSpace(line)
}

const h2Prior = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

// h2c is granted only to peers in --forwarded-allow-ips: anyone else is served HTTP/1.x
// exactly as with --http2-cleartext off.
func TestH2CGrantedOnlyToTrustedPeers(t *testing.T) {
	trusted := serveInProcess(t, Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge}}, "tcp") // 127.0.0.1 is trusted by default
	untrusted := serveInProcess(t, Config{Values: Values{HTTP2Cleartext: H2CPriorKnowledge, ForwardedAllowIPs: "10.0.0.1"}}, "tcp")
	off := serveInProcess(t, Config{Values: Values{ForwardedAllowIPs: "10.0.0.1"}}, "tcp")

	if proto, err := h2cAttempt(trusted); err != nil || proto != "HTTP/2.0" {
		t.Errorf("trusted peer, prior-knowledge: %q %v, want HTTP/2.0", proto, err)
	}
	if proto, err := h2cAttempt(untrusted); err == nil && proto == "HTTP/2.0" {
		t.Error("a peer outside --forwarded-allow-ips was served h2c")
	}
	// what the untrusted peer's preface gets is what it gets with h2c off
	gotUntrusted, gotOff := firstAnswerLine(t, untrusted, h2Prior), firstAnswerLine(t, off, h2Prior)
	if gotUntrusted != gotOff || !strings.HasPrefix(gotOff, "HTTP/1.1 ") {
		t.Errorf("untrusted preface answered %q, with h2c off %q: want the same HTTP/1.1 answer", gotUntrusted, gotOff)
	}
	// and HTTP/1.x keeps working for both
	for name, addr := range map[string]string{"trusted": trusted, "untrusted": untrusted} {
		if got := firstAnswerLine(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); got != "HTTP/1.1 200 OK" {
			t.Errorf("%s peer, HTTP/1.1: %q", name, got)
		}
	}
}

// upgrade and both are accepted; an Upgrade: h2c request is served over HTTP/1.1 (net/http
// has no h2c upgrade), and upgrade alone grants no prior knowledge.
func TestH2CUpgradeServedOverHTTP1(t *testing.T) {
	upgradeReq := "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"
	for _, mode := range []string{H2CUpgrade, H2CBoth} {
		addr := serveInProcess(t, Config{Values: Values{HTTP2Cleartext: mode}}, "tcp")
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, upgradeReq)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		c.Close()
		if resp.StatusCode != 200 || resp.Proto != "HTTP/1.1" || !strings.Contains(string(body), "path=/up") || !strings.Contains(string(body), "proto=HTTP/1.1") {
			t.Errorf("%s: Upgrade: h2c answered %d %s %q, want 200 over HTTP/1.1", mode, resp.StatusCode, resp.Proto, body)
		}
		proto, err := h2cAttempt(addr)
		if wantH2 := mode == H2CBoth; (err == nil && proto == "HTTP/2.0") != wantH2 {
			t.Errorf("%s: prior knowledge from a trusted peer: %q %v, want h2c %v", mode, proto, err, wantH2)
		}
	}
}

// upgrade and both say once at start what Go cannot do.
func TestH2CUpgradeLogsOneLine(t *testing.T) {
	for mode, want := range map[string]int{H2CUpgrade: 1, H2CBoth: 1, H2CPriorKnowledge: 0, "": 0} {
		var buf bytes.Buffer
		master.ReportNoEffect(Values{HTTP2Cleartext: mode}, nil, &observe.Log{Logger: slog.New(slog.NewTextHandler(&buf, nil)), Out: io.Discard})
		if got := strings.Count(buf.String(), "served over HTTP/1.1"); got != want {
			t.Errorf("mode %q: %d start-up lines about Upgrade: h2c, want %d:\n%s", mode, got, want, buf.String())
		}
	}
}
