package prefork

import (
	"errors"
	"flag"
	"math"
	"strconv"
	"strings"
	"time"
)

// RegisterFlags registers Gunicorn-compatible flags on fs, bound to c. The
// values already in c are the defaults shown and kept when a flag is absent.
// Durations accept plain seconds ("30", "0.5") or Go durations ("30s"); as in
// Gunicorn, 0 turns a timeout or limit off. -c/--config is not registered: the
// program's entry owns it.
//
// Flags of the production features (access log, user/group, control socket...)
// are added by registerProductionFlags (flags_production.go).
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	both := func(v flag.Value, short, long, usage string) {
		if short != "" {
			fs.Var(v, short, usage+" (short for --"+long+")")
		}
		fs.Var(v, long, usage)
	}
	both(&bindFlag{list: &c.Bind}, "b", "bind", "address to listen on: host:port, [::1]:port, unix:/path or fd://N (repeatable)")
	both(&intFlag{p: &c.Workers, min: 1}, "w", "workers", "number of worker processes (default $WEB_CONCURRENCY, else GOMAXPROCS)")
	both(&durationFlag{p: &c.Timeout}, "t", "timeout", "seconds a worker may be silent or a request may run before the worker is replaced; 0 disables (default 30)")
	both(&durationFlag{p: &c.GracefulTimeout}, "", "graceful-timeout", "seconds to drain on stop, reload and recycling before a worker is killed (default 30)")
	both(&durationFlag{p: &c.KeepAlive}, "", "keep-alive", "seconds to keep an idle client connection; 0 disables keep-alive (default 5)")
	both(&intFlag{p: &c.MaxRequests, min: 0}, "", "max-requests", "recycle a worker after this many requests; 0 = never")
	both(&intFlag{p: &c.MaxRequestsJitter, min: 0}, "", "max-requests-jitter", "random extra requests added to each worker's max-requests")
	both(&stringFlag{p: &c.PidFile}, "p", "pid", "file to write the master's pid to")
	both(&stringFlag{p: &c.ErrorLog}, "", "error-logfile", `error log file, "-" for stderr (default "-")`)
	fs.Var(&stringFlag{p: &c.ErrorLog}, "log-file", "same as --error-logfile")
	both(&levelFlag{p: &c.LogLevel}, "", "log-level", "debug, info, warning, error or critical (default info)")
	fs.BoolVar(&c.CheckConfig, "check-config", c.CheckConfig, "validate the configuration and load the app, then exit 0 or 1")
	fs.BoolVar(&c.PrintConfig, "print-config", c.PrintConfig, "print the effective configuration and exit")
	both(&limitFlag{p: &c.LimitRequestLine, max: 8190}, "", "limit-request-line", "longest request line in bytes, 0 = unlimited (default 4094)")
	both(&limitFlag{p: &c.LimitRequestFields, max: 32768}, "", "limit-request-fields", "most header fields per request, 0 = unlimited (default 100)")
	both(&limitFlag{p: &c.LimitRequestFieldSize}, "", "limit-request-field_size", "longest header field in bytes, 0 = unlimited (default 8190)")
	c.registerProductionFlags(fs)
}

// bindFlag replaces the defaults on its first use, then appends.
type bindFlag struct {
	list *[]string
	set  bool
}

func (f *bindFlag) String() string {
	if f == nil || f.list == nil {
		return ""
	}
	return strings.Join(*f.list, ",")
}

func (f *bindFlag) Set(s string) error {
	if _, err := parseAddr(s); err != nil {
		return errors.Unwrap(err)
	}
	if !f.set {
		*f.list = nil
		f.set = true
	}
	*f.list = append(*f.list, s)
	return nil
}

type intFlag struct {
	p   *int
	min int
}

func (f *intFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return strconv.Itoa(*f.p)
}

func (f *intFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return errors.New("must be a whole number")
	}
	if n < f.min {
		return errors.New("must be at least " + strconv.Itoa(f.min))
	}
	*f.p = n
	return nil
}

// limitFlag follows Gunicorn: 0 means unlimited (stored as -1), and some
// limits have a maximum.
type limitFlag struct {
	p   *int
	max int
}

func (f *limitFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return limit(*f.p)
}

func (f *limitFlag) Set(s string) error {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 0 {
		return errors.New("must be a whole number of bytes or fields, 0 for unlimited")
	}
	if f.max > 0 && n > f.max {
		return errors.New("must be at most " + strconv.Itoa(f.max))
	}
	if n == 0 {
		n = -1
	}
	*f.p = n
	return nil
}

// durationFlag accepts seconds like Gunicorn ("30", "0.5") or a Go duration
// ("30s", "500ms"). 0 is stored as -1: off.
type durationFlag struct{ p *time.Duration }

func (f *durationFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return seconds(*f.p)
}

func (f *durationFlag) Set(s string) error {
	d, err := parseSeconds(s)
	if err != nil {
		return err
	}
	if d == 0 {
		d = -1
	}
	*f.p = d
	return nil
}

func parseSeconds(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if secs, err := strconv.ParseFloat(s, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || secs > math.MaxInt64/float64(time.Second) {
			return 0, errors.New("must be a non-negative number of seconds")
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("must be seconds (e.g. 30, 0.5) or a Go duration (e.g. 30s, 500ms)")
	}
	if d < 0 {
		return 0, errors.New("must not be negative")
	}
	return d, nil
}

type stringFlag struct{ p *string }

func (f *stringFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *stringFlag) Set(s string) error {
	*f.p = s
	return nil
}

type levelFlag struct{ p *string }

func (f *levelFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *levelFlag) Set(s string) error {
	if _, err := parseLevel(s); err != nil {
		return errors.New("must be one of debug, info, warning, error, critical")
	}
	*f.p = s
	return nil
}
