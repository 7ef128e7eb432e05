// Package rawhttp holds what the runtime's tests send and serve to check the
// request policy byte by byte: raw HTTP/1 exchanges over any connection, and
// handlers that answer what they saw of a request. Only tests import it; it
// holds no runtime code.
package rawhttp

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Exchange sends raw over a connection dial opens, half-closes (the request
// ends there, as a file does), and reads every response until the server
// closes; 100 Continue interim answers are skipped.
func Exchange(t testing.TB, dial func() (net.Conn, error), raw string) []*http.Response {
	t.Helper()
	c, err := dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	c.(interface{ CloseWrite() error }).CloseWrite()
	var out []*http.Response
	br := bufio.NewReader(c)
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return out
		}
		if resp.StatusCode == http.StatusContinue {
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, resp)
	}
}

// Body is r's body, which stays readable.
func Body(r *http.Response) string {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

// CountingApp answers 200 "body=<body>" once it read the whole body, or 500
// "read: <err>" when the body could not be read; Seen counts its requests.
type CountingApp struct{ Seen atomic.Int64 }

func (a *CountingApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.Seen.Add(1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read: "+err.Error(), 500)
		return
	}
	fmt.Fprintf(w, "body=%s", body)
}

// CodingsApp answers what a handler sees of a request's transfer codings:
// r.TransferEncoding, a Transfer-Encoding header field left in r.Header, and
// the body as read (quoted).
type CodingsApp struct{ Seen atomic.Int64 }

func (a *CodingsApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.Seen.Add(1)
	te, field := strings.Join(r.TransferEncoding, ","), r.Header.Get("Transfer-Encoding")
	if body, err := io.ReadAll(r.Body); err == nil {
		fmt.Fprintf(w, "te=%s header=%q body=%q", te, field, body)
	} else {
		http.Error(w, "read: "+err.Error(), 500)
	}
}

// GzipHello is "hello" gzip-compressed, as a client coding its body sends it.
func GzipHello(t testing.TB) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte("hello"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Chunked is body in chunks of at most 7 bytes, then the last chunk.
func Chunked(body []byte) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(len(body), 7)
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	return b.String() + "0\r\n\r\n"
}
