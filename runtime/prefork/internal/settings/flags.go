package settings

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

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
	if _, err := ParseAddr(s); err != nil {
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
	p        *int
	min, max int // max 0: none
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
	if f.max > 0 && n > f.max {
		return errors.New("must be at most " + strconv.Itoa(f.max))
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

// fractionFlag is a decimal number from min to max (a share, a ratio,
// percentage points); rule names the range in its error.
type fractionFlag struct {
	p        *float64
	min, max float64
	rule     string
}

func (f *fractionFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'f', -1, 64)
}

func (f *fractionFlag) Set(s string) error {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || v < f.min || v > f.max {
		return errors.New("must be " + f.rule)
	}
	*f.p = v
	return nil
}

// durationFlag accepts seconds like Gunicorn ("30", "0.5") or a Go duration
// ("30s", "500ms"). 0 is stored as -1: off.
type durationFlag struct{ p *time.Duration }

func (f *durationFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return Seconds(*f.p)
}

func (f *durationFlag) Set(s string) error {
	d, err := ParseDuration(s)
	if err != nil {
		return err
	}
	if d == 0 {
		d = -1
	}
	*f.p = d
	return nil
}

// ParseDuration is the one parser of durations, for flags and for the configuration
// engine: seconds as Gunicorn takes them ("30", "0.5") or a Go duration ("30s",
// "500ms"); never negative. The error states the rule only.
func ParseDuration(s string) (time.Duration, error) {
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
	if _, err := ParseLogLevel(s); err != nil {
		return errors.New("must be one of debug, info, warning, error, critical")
	}
	*f.p = s
	return nil
}

// seconds is a duration in its flag's spelling: seconds, 0 for off (negative).
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(max(d, 0).Seconds(), 'f', -1, 64)
}

// limit is a limit in its flag's spelling: 0 for none (negative).
func limit(n int) string {
	return strconv.Itoa(max(n, 0))
}
