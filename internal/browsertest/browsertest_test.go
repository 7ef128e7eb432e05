package browsertest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
)

const report = `{
  "categories": {"accessibility": {"score": 1}, "best-practices": {"score": 0.96}},
  "audits": {
    "errors-in-console": {"title": "Browser errors were logged to the console", "score": 0, "scoreDisplayMode": "binary",
      "details": {"items": [
        {"source": "network", "description": "Failed to load resource: the server responded with a status of 404 (Not Found)", "sourceLocation": {"url": "http://127.0.0.1:1/nope"}},
        {"source": "javascript", "description": "Uncaught TypeError: x is undefined", "sourceLocation": {"url": "http://127.0.0.1:1/app.js"}}
      ]}},
    "color-contrast": {"title": "Contrast", "score": 1, "scoreDisplayMode": "binary"},
    "network-requests": {"title": "Network Requests", "score": null, "scoreDisplayMode": "informative",
      "details": {"items": [
        {"url": "http://127.0.0.1:1/nope", "statusCode": 404},
        {"url": "https://fonts.example.com/x.woff2", "statusCode": -1}
      ]}}
  }
}`

func TestParseReport(t *testing.T) {
	r, err := parseReport([]byte(report))
	if err != nil {
		t.Fatal(err)
	}
	if r.Scores["accessibility"] != 1 || r.Scores["best-practices"] != 0.96 {
		t.Errorf("scores %v", r.Scores)
	}
	if !slices.Equal(r.Failed, []string{"errors-in-console: Browser errors were logged to the console"}) {
		t.Errorf("failed audits %v", r.Failed)
	}
	want := []Request{{URL: "http://127.0.0.1:1/nope", Status: 404}, {URL: "https://fonts.example.com/x.woff2", Status: -1}}
	if !slices.Equal(r.Requests, want) {
		t.Errorf("requests %+v, want %+v", r.Requests, want)
	}
	// The 404 page's own status is left out; any other console error stays.
	rest := r.WithoutStatusOf("http://127.0.0.1:1/nope")
	if len(rest) != 1 || rest[0].Source != "javascript" {
		t.Errorf("WithoutStatusOf = %+v, want the script error only", rest)
	}
	if len(r.WithoutStatusOf("http://127.0.0.1:1/other")) != 2 {
		t.Error("WithoutStatusOf left out the status of a page other than the one named")
	}

	if _, err := parseReport([]byte(`{"runtimeError": {"code": "ERRORED_DOCUMENT_REQUEST", "message": "status 500"}}`)); err == nil || !strings.Contains(err.Error(), "ERRORED_DOCUMENT_REQUEST") {
		t.Errorf("a run that failed = %v, want its runtime error", err)
	}
	if _, err := parseReport([]byte(`{"categories": {"accessibility": {"score": null}}}`)); err == nil {
		t.Error("a category without a score was accepted")
	}
}

// The proxy passes loopback on and refuses the rest, telling a page's requests (they carry
// a Referer) from the browser's own.
func TestProxy(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "app") }))
	defer app.Close()
	p := &proxy{}
	p.server = httptest.NewServer(p)
	defer p.server.Close()
	b := &Browser{proxy: p}
	proxyURL, _ := url.Parse(p.server.URL)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}

	for _, tc := range []struct{ url, referer, body string }{
		{app.URL + "/", "", "app"},
		{"http://cdn.example.com/lib.js", app.URL + "/", ""},
		{"http://update.example.com/check", "", ""},
	} {
		req, _ := http.NewRequest("GET", tc.url, nil)
		if tc.referer != "" {
			req.Header.Set("Referer", tc.referer)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.body != "" && string(body) != tc.body {
			t.Errorf("GET %s through the proxy = %d %q, want %q", tc.url, resp.StatusCode, body, tc.body)
		}
		if tc.body == "" && resp.StatusCode != http.StatusForbidden {
			t.Errorf("GET %s through the proxy = %d, want 403", tc.url, resp.StatusCode)
		}
	}
	if reqs := b.Requests(); len(reqs) != 3 || reqs[0].Status != 200 {
		t.Errorf("recorded %+v", reqs)
	}
	page, background := b.Offsite()
	if len(page) != 1 || page[0].URL != "http://cdn.example.com/lib.js" || len(background) != 1 || background[0].URL != "http://update.example.com/check" {
		t.Errorf("Offsite = %+v, %+v; want the CDN as the page's, the update check as the browser's", page, background)
	}
}
