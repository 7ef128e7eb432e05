package observe

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// DefaultAccessLogFormat is Gunicorn's default access_log_format (the
// "combined" log format of Apache and nginx).
const DefaultAccessLogFormat = `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`

// accessLog writes one line per request, in Gunicorn's atom format or JSON.
//
// Text atoms (Gunicorn's names):
//
//	h remote address    l "-"               u basic-auth user or "-"
//	t [date of request] r "METHOD URI PROTO" m method
//	U path              q query string      H protocol
//	s status            B response bytes    b response bytes, "-" for 0
//	f Referer           a User-Agent        p <pid>
//	T seconds           M milliseconds      D microseconds
//	L decimal seconds   {Name}i request header  {Name}o response header
//	trace_id the trace of the app's span (prefork.SetTraceID), "-" without one
//
// Every value is escaped the way nginx escapes its log: '"' and '\' get a
// backslash, control bytes and invalid UTF-8 become \xHH, so a header can
// neither end a quoted field nor start a new line. In the JSON format every
// value is a JSON string or number escaped by the same rule JSON itself has,
// so a request cannot add a field or a line either.
//
// Lines are written whole (one write(2) per line, or per buffer of whole
// lines when buffered: accesslog_buffer.go) to a file opened O_APPEND, so
// several workers can share one file without interleaving.
type AccessLog struct {
	out   io.Writer
	file  *LogFile // nil when out is not a file we opened
	json  bool
	atoms []settings.LogAtom
	pid   string
	pidN  int64
	// buffered is set when lines are buffered (accesslog_buffer.go)
	buffered *bufferedLog
	// clock and zone cache the timestamp per second (accesslog_fast.go)
	clock, zone timeCache
}

// newAccessLog opens path ("-" for standard output) and compiles format
// ("" for DefaultAccessLogFormat, "json" for JSON lines).
func NewAccessLog(path, format string) (*AccessLog, error) {
	f, err := OpenLogFile(path, os.Stdout)
	if err != nil {
		return nil, err
	}
	a, err := NewAccessLogTo(f, format)
	if err != nil {
		f.Close()
		return nil, err
	}
	a.file = f
	return a, nil
}

func NewAccessLogTo(w io.Writer, format string) (*AccessLog, error) {
	a := &AccessLog{out: w, pid: "<" + strconv.Itoa(os.Getpid()) + ">", pidN: int64(os.Getpid())}
	if settings.IsJSONAccessLogFormat(format) {
		a.json = true
		return a, nil
	}
	if format == "" {
		format = DefaultAccessLogFormat
	}
	atoms, err := settings.ParseAccessLogFormat(format)
	if err != nil {
		return nil, err
	}
	a.atoms = atoms
	return a, nil
}

// Reopen reopens the log file (USR1, after logrotate moved it).
func (a *AccessLog) Reopen() error {
	if a == nil || a.file == nil {
		return nil
	}
	a.Flush() // buffered lines go to the old file
	return a.file.Reopen()
}

// Close closes the log file (standard output is left open).
func (a *AccessLog) Close() error {
	if a == nil {
		return nil
	}
	a.Flush() // buffered lines are written before exit
	if a.file == nil {
		return nil
	}
	return a.file.Close()
}

// Handler logs every request served by next.
func (a *AccessLog) Handler(next http.Handler) http.Handler {
	if a == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &ResponseRecorder{ResponseWriter: w}
		defer func() {
			a.Log(r, rec.Status, rec.Bytes, rec.Header(), start, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

var logBufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Log writes the line for one finished request.
func (a *AccessLog) Log(r *http.Request, status int, size int64, respHeader http.Header, start time.Time, d time.Duration) {
	a.LogTraced(r, status, size, respHeader, start, d, "")
}

// LogTraced writes the line for one finished request of trace traceID
// (JSON "trace_id", atom %(trace_id)s; "" when the app made no span).
func (a *AccessLog) LogTraced(r *http.Request, status int, size int64, respHeader http.Header, start time.Time, d time.Duration, traceID string) {
	if status == 0 {
		status = http.StatusOK
	}
	bp := logBufPool.Get().(*[]byte)
	b := (*bp)[:0]
	if a.json {
		b = a.appendJSON(b, r, status, size, start, d, traceID)
	} else {
		for _, at := range a.atoms {
			b = appendAtom(b, at, a, r, status, size, respHeader, start, d, traceID)
		}
	}
	b = append(b, '\n')
	_, _ = a.out.Write(b)
	*bp = b
	logBufPool.Put(bp)
}

// appendAtom appends one atom of the compiled format.
func appendAtom(b []byte, at settings.LogAtom, a *AccessLog, r *http.Request, status int, size int64, rh http.Header, start time.Time, d time.Duration, traceID string) []byte {
	switch at.Code {
	case 0:
		return append(b, at.Literal...)
	case 'x':
		return appendLogTextOrDash(b, traceID)
	case 'h':
		return appendLogText(b, remoteHost(r.RemoteAddr))
	case 'l':
		return append(b, '-')
	case 'u':
		if u := basicAuthUser(r); u != "" {
			return appendLogText(b, u)
		}
		return append(b, '-')
	case 't':
		b = append(b, '[')
		b = a.clock.appendSecond(b, start, "02/Jan/2006:15:04:05 -0700")
		return append(b, ']')
	case 'r':
		b = appendLogText(b, r.Method)
		b = append(b, ' ')
		b = appendLogText(b, r.RequestURI)
		b = append(b, ' ')
		return appendLogText(b, r.Proto)
	case 'm':
		return appendLogText(b, r.Method)
	case 'U':
		return appendLogText(b, r.URL.Path)
	case 'q':
		return appendLogText(b, r.URL.RawQuery)
	case 'H':
		return appendLogText(b, r.Proto)
	case 's':
		return strconv.AppendInt(b, int64(status), 10)
	case 'B':
		return strconv.AppendInt(b, size, 10)
	case 'b':
		if size == 0 {
			return append(b, '-')
		}
		return strconv.AppendInt(b, size, 10)
	case 'f':
		return appendLogTextOrDash(b, r.Header.Get("Referer"))
	case 'a':
		return appendLogTextOrDash(b, r.Header.Get("User-Agent"))
	case 'p':
		return append(b, a.pid...)
	case 'T':
		return strconv.AppendInt(b, int64(d/time.Second), 10)
	case 'M':
		return strconv.AppendInt(b, int64(d/time.Millisecond), 10)
	case 'D':
		return strconv.AppendInt(b, int64(d/time.Microsecond), 10)
	case 'L':
		return strconv.AppendFloat(b, d.Seconds(), 'f', 6, 64)
	case 'i':
		return appendLogTextOrDash(b, strings.Join(r.Header.Values(at.Header), ", "))
	case 'o':
		if rh == nil {
			return append(b, '-')
		}
		return appendLogTextOrDash(b, strings.Join(rh.Values(at.Header), ", "))
	}
	return append(b, '-')
}

func appendLogTextOrDash(b []byte, s string) []byte {
	if s == "" {
		return append(b, '-')
	}
	return appendLogText(b, s)
}

const HexDigits = "0123456789abcdef"

// appendLogText escapes like nginx's access log: '"' and '\' are
// backslashed, control bytes, DEL and invalid UTF-8 become \xHH.
func appendLogText(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			if c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size > 1 {
				if r >= 0x80 && r < 0xa0 || r == '\u2028' || r == '\u2029' {
					for j := 0; j < size; j++ {
						b = append(b, '\\', 'x', HexDigits[s[i+j]>>4], HexDigits[s[i+j]&0xf])
					}
				} else {
					b = append(b, s[i:i+size]...)
				}
				i += size
				continue
			}
		}
		b = append(b, '\\', 'x', HexDigits[c>>4], HexDigits[c&0xf])
		i++
	}
	return b
}

// appendJSONString writes s as a JSON string: control characters as
// \u00XX, invalid UTF-8 as U+FFFD (as encoding/json does), and the line
// separators U+2028/U+2029 escaped for JavaScript readers.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	if jsonSafe(s) { // most values: nothing to escape
		b = append(b, s...)
		return append(b, '"')
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', HexDigits[c>>4], HexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', HexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}

func (a *AccessLog) appendJSON(b []byte, r *http.Request, status int, size int64, start time.Time, d time.Duration, traceID string) []byte {
	// each key comes with its punctuation, one append: `,"key":`
	str := func(b []byte, key, val string) []byte { return appendJSONString(append(b, key...), val) }
	num := func(b []byte, key string, val int64) []byte { return strconv.AppendInt(append(b, key...), val, 10) }
	// The runtime sets X-Request-Id on every request: when the header holds
	// nothing else (wrk's requests), the other fields need no lookup.
	var user, referer, agent string
	id, hasID := r.Header["X-Request-Id"]
	if len(r.Header) > 1 || !hasID && len(r.Header) > 0 {
		user, referer, agent = basicAuthUser(r), HeaderFirst(r.Header, "Referer"), HeaderFirst(r.Header, "User-Agent")
	}
	b = append(b, `{"time":"`...)
	b = a.clock.appendRFC3339Millis(b, start, &a.zone)
	b = append(b, '"')
	b = str(b, `,"remote_addr":`, remoteHost(r.RemoteAddr))
	b = str(b, `,"user":`, user)
	b = str(b, `,"method":`, r.Method)
	b = str(b, `,"uri":`, r.RequestURI)
	b = str(b, `,"path":`, r.URL.Path)
	b = str(b, `,"query":`, r.URL.RawQuery)
	b = str(b, `,"proto":`, r.Proto)
	b = str(b, `,"host":`, r.Host)
	b = num(b, `,"status":`, int64(status))
	b = num(b, `,"bytes":`, size)
	b = num(b, `,"duration_us":`, int64(d/time.Microsecond))
	b = str(b, `,"referer":`, referer)
	b = str(b, `,"user_agent":`, agent)
	var rid string
	if len(id) > 0 {
		rid = id[0]
	}
	b = str(b, `,"request_id":`, rid)
	if traceID != "" {
		b = str(b, `,"trace_id":`, traceID)
	}
	b = num(b, `,"pid":`, a.pidN)
	return append(b, '}')
}

// responseRecorder captures the status and body size for the access log
// while keeping the optional interfaces (Flusher, Hijacker, ReaderFrom for
// sendfile) and Unwrap for http.ResponseController.
type ResponseRecorder struct {
	http.ResponseWriter
	Status int
	Bytes  int64
}

func (w *ResponseRecorder) WriteHeader(code int) {
	if w.Status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.Status = code // 1xx informational responses are not the final status
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *ResponseRecorder) Write(p []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.Bytes += int64(n)
	return n, err
}

func (w *ResponseRecorder) ReadFrom(src io.Reader) (int64, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(w.ResponseWriter, src)
	}
	w.Bytes += n
	return n, err
}

func (w *ResponseRecorder) Flush() {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *ResponseRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.Status == 0 {
		w.Status = http.StatusSwitchingProtocols
	}
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func (w *ResponseRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// headerFirst is h.Get(key) for a key already in canonical form.
func HeaderFirst(h http.Header, key string) string {
	if vs := h[key]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}
