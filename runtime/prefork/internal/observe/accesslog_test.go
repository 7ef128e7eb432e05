package observe

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var logStart = time.Date(2000, 10, 10, 13, 55, 36, 0, time.FixedZone("", -7*3600))

func hostileRequest(ua string) *http.Request {
	r := httptest.NewRequest("GET", "/a%20b?x=1&y=2", nil)
	r.RemoteAddr = "192.0.2.7:51234"
	r.Header.Set("User-Agent", ua)
	r.Header.Set("Referer", "http://example.com/")
	r.SetBasicAuth("frank", "pw")
	return r
}

func logLine(t *testing.T, format string, r *http.Request, status int, size int64, rh http.Header) string {
	t.Helper()
	var buf bytes.Buffer
	a, err := NewAccessLogTo(&buf, format)
	if err != nil {
		t.Fatal(err)
	}
	a.Log(r, status, size, rh, logStart, 1500*time.Microsecond)
	return buf.String()
}

func TestAccessLogDefaultFormatIsGunicorns(t *testing.T) {
	got := logLine(t, "", hostileRequest("curl/8"), 200, 1234, nil)
	want := `192.0.2.7 - frank [10/Oct/2000:13:55:36 -0700] "GET /a%20b?x=1&y=2 HTTP/1.1" 200 1234 "http://example.com/" "curl/8"` + "\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAccessLogAtoms(t *testing.T) {
	r := hostileRequest("ua")
	r.Header.Set("X-Request-Id", "abc")
	rh := http.Header{"Content-Type": {"text/plain"}}
	got := logLine(t, `%(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %(b)s %(T)s %(M)s %(D)s %(L)s %({x-request-id}i)s %({Content-Type}o)s %({missing}i)s 100%%`, r, 204, 0, rh)
	want := "GET /a b x=1&y=2 HTTP/1.1 204 0 - 0 1 1500 0.001500 abc text/plain - 100%\n"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if p := logLine(t, "%(p)s", r, 200, 0, nil); p != "<"+strconv.Itoa(os.Getpid())+">\n" {
		t.Errorf("pid atom: %q", p)
	}
}

func TestAccessLogFormatErrors(t *testing.T) {
	for _, bad := range []string{"%(zz)s", "%(h)", "50% off", "%(h)s %", "%({X}e)s"} {
		_, err := NewAccessLogTo(io.Discard, bad)
		if err == nil || !strings.Contains(err.Error(), "access log format") {
			t.Errorf("format %q: want a clear error, got %v", bad, err)
		}
	}
}

var hostileValues = []string{
	`evil" 200 "injected`,
	"line\nFAKE 127.0.0.1 - - [x] \"GET /admin\" 200",
	"cr\rlf\r\n",
	"ctl\x00\x01\x1b[31m\x7f",
	"bad utf8 \xff\xfe \xc3",
	`back\slash\"`,
	"ls\u2028ps\u2029",
	`{"status":500}`,
	"c1\u0085",
}

func TestAccessLogTextCannotBeForged(t *testing.T) {
	for _, v := range hostileValues {
		line := logLine(t, "", hostileRequest(v), 200, 5, nil)
		if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") || strings.ContainsAny(line, "\r\x00\x1b\x7f\u2028\u2029\u0085") {
			t.Errorf("value %q produced unsafe line %q", v, line)
		}
		// The user agent is the last quoted field: the line must end with it, unbroken.
		if !strings.HasSuffix(line, "\"\n") || strings.Contains(line, `" 200 "injected`) {
			t.Errorf("value %q broke out of its quotes: %q", v, line)
		}
	}
}

var jsonKeys = []string{"bytes", "duration_us", "host", "method", "path", "pid", "proto", "query", "referer", "remote_addr", "request_id", "status", "time", "uri", "user", "user_agent"}

func checkJSONLine(t *testing.T, line, ua string) {
	t.Helper()
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("UA %q: not exactly one line: %q", ua, line)
	}
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("UA %q: invalid JSON %q: %v", ua, line, err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	if !reflect.DeepEqual(keys, jsonKeys) {
		t.Fatalf("UA %q: keys %v, want %v", ua, keys, jsonKeys)
	}
	if got := m["user_agent"]; got != string([]rune(ua)) {
		t.Fatalf("UA %q did not round-trip: %q", ua, got)
	}
	if m["status"].(json.Number).String() != "200" {
		t.Fatalf("status forged: %v", m["status"])
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func TestAccessLogJSONCannotBeForged(t *testing.T) {
	for _, v := range hostileValues {
		checkJSONLine(t, logLine(t, "json", hostileRequest(v), 200, 5, nil), v)
	}
}

func FuzzAccessLogJSON(f *testing.F) {
	for _, v := range hostileValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		checkJSONLine(t, logLine(t, "json", hostileRequest(ua), 200, 5, nil), ua)
		text := logLine(t, "", hostileRequest(ua), 200, 5, nil)
		if strings.Count(text, "\n") != 1 || strings.ContainsAny(text, "\r\x00") {
			t.Fatalf("text line for %q: %q", ua, text)
		}
	})
}

func TestAccessLogHandlerCapturesStatusAndBytes(t *testing.T) {
	var buf bytes.Buffer
	a, _ := NewAccessLogTo(&buf, "%(s)s %(B)s %(U)s")
	mux := http.NewServeMux()
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusEarlyHints) // informational: not the final status
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	})
	mux.HandleFunc("/flush", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := w.(http.Flusher); !ok {
			t.Error("Flusher lost")
		}
		if _, ok := w.(http.Hijacker); !ok {
			t.Error("Hijacker lost")
		}
		w.(http.Flusher).Flush()
		io.Copy(w, strings.NewReader("0123456789")) // ReaderFrom path
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(a.Handler(mux))
	defer srv.Close()
	for _, p := range []string{"/teapot", "/flush", "/empty"} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	srv.Close() // handlers done, log lines written
	want := "418 15 /teapot\n200 10 /flush\n200 0 /empty\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestReopenableFileSurvivesRotationUnderConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "access.log")
	a, err := NewAccessLog(path, "json")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var wg sync.WaitGroup
	const writers, each = 4, 200
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				a.Log(hostileRequest("w"), 200, 1, nil, time.Now(), time.Millisecond)
			}
		}()
	}
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := a.Reopen(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	a.Log(hostileRequest("after"), 200, 1, nil, time.Now(), time.Millisecond)
	total := 0
	for _, p := range []string{path + ".1", path} {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.SplitAfter(string(data), "\n") {
			if line == "" {
				continue
			}
			if !json.Valid([]byte(line)) {
				t.Fatalf("torn line in %s: %q", p, line)
			}
			total++
		}
	}
	if total != writers*each+1 {
		t.Errorf("%d lines across both files, want %d", total, writers*each+1)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"user_agent":"after"`) {
		t.Error("line after reopen not in the new file")
	}
	if _, err := NewAccessLog(filepath.Join(dir, "missing", "x.log"), ""); err == nil {
		t.Error("want an error for an unopenable path")
	}
}

func benchmarkAccessLog(b *testing.B, format string) {
	a, err := NewAccessLogTo(io.Discard, format)
	if err != nil {
		b.Fatal(err)
	}
	r := hostileRequest("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \"quoted\"")
	b.ReportAllocs()
	for b.Loop() {
		a.Log(r, 200, 1234, nil, logStart, time.Millisecond)
	}
}

func BenchmarkAccessLogText(b *testing.B) { benchmarkAccessLog(b, "") }
func BenchmarkAccessLogJSON(b *testing.B) { benchmarkAccessLog(b, "json") }
