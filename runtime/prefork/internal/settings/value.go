package settings

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

// value is every setting's flag.Value but the lists and --proxy-protocol: the
// one place a flag's text becomes its typed field. parse checks the text and
// gives the field (its error states the rule only; the flag package names the
// flag), format spells the field back as the flag takes it (-h, --print-config),
// and a switch (isBool) may be given alone.
type value[T any] struct {
	p      *T
	parse  func(string) (T, error)
	format func(T) string
	isBool bool
}

func (v *value[T]) IsBoolFlag() bool { return v != nil && v.isBool }

func (v *value[T]) String() string {
	if v == nil || v.p == nil || v.format == nil {
		return ""
	}
	return v.format(*v.p)
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return err
	}
	*v.p = x
	return nil
}

// text is a string setting whose rule is parse (which may also normalize it).
func text(p *string, parse func(string) (string, error)) *value[string] {
	return &value[string]{p: p, parse: parse, format: func(s string) string { return s }}
}

// anyText is a string setting taking any text.
func anyText(p *string) *value[string] {
	return text(p, func(s string) (string, error) { return s, nil })
}

// checked is a string setting kept as given once check accepts it; a "prefork: "
// prefix of check's error is dropped.
func checked(p *string, check func(string) error) *value[string] {
	return text(p, func(s string) (string, error) {
		if err := check(s); err != nil {
			return "", errors.New(TrimPkg(err))
		}
		return s, nil
	})
}

// intValue is a whole number in [min, max] (max 0: no maximum).
func intValue(p *int, min, max int) *value[int] {
	return &value[int]{p: p, format: strconv.Itoa, parse: func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return 0, errors.New("must be a whole number")
		}
		if n < min {
			return 0, errors.New("must be at least " + strconv.Itoa(min))
		}
		if max > 0 && n > max {
			return 0, errors.New("must be at most " + strconv.Itoa(max))
		}
		return n, nil
	}}
}

// limitValue follows Gunicorn: 0 means unlimited (stored as -1), and some
// limits have a maximum (max 0: none).
func limitValue(p *int, max int) *value[int] {
	return &value[int]{p: p, format: limit, parse: func(s string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return 0, errors.New("must be a whole number of bytes or fields, 0 for unlimited")
		}
		if max > 0 && n > max {
			return 0, errors.New("must be at most " + strconv.Itoa(max))
		}
		if n == 0 {
			n = -1
		}
		return n, nil
	}}
}

// durationValue accepts seconds like Gunicorn ("30", "0.5") or a Go duration
// ("30s", "500ms"). 0 is stored as -1: off.
func durationValue(p *time.Duration) *value[time.Duration] {
	return &value[time.Duration]{p: p, format: Seconds, parse: func(s string) (time.Duration, error) {
		d, err := ParseDuration(s)
		if err == nil && d == 0 {
			d = -1
		}
		return d, err
	}}
}

// boolValue is a switch: given alone it is true; "=true"/"=false" also work.
func boolValue(p *bool) *value[bool] {
	return &value[bool]{p: p, isBool: true, format: strconv.FormatBool, parse: func(s string) (bool, error) {
		v, err := strconv.ParseBool(s)
		if err != nil {
			return false, errors.New("takes no value (or true/false)")
		}
		return v, nil
	}}
}

// byteSizeValue is a size in bytes ("512MiB", "1GB", bytes).
func byteSizeValue(p *int64) *value[int64] {
	return &value[int64]{p: p, format: exactSize, parse: func(s string) (int64, error) {
		n, err := ParseByteSize(s)
		if err != nil {
			return 0, errors.New(TrimPkg(err))
		}
		return n, nil
	}}
}

// bufferValue is a buffer size of at most 16MiB; 0 is write-through (stored
// as -1), as Gunicorn maps 0 to off.
func bufferValue(p *int) *value[int] {
	format := func(n int) string {
		if n <= 0 {
			return "0"
		}
		return exactSize(int64(n))
	}
	return &value[int]{p: p, format: format, parse: func(s string) (int, error) {
		n, err := ParseByteSize(s)
		if err != nil {
			return 0, errors.New(TrimPkg(err))
		}
		if n > 16<<20 {
			return 0, errors.New("must be at most 16MiB")
		}
		if n == 0 {
			n = -1
		}
		return int(n), nil
	}}
}

// bucketsValue is the histogram's ascending upper bounds, in seconds.
func bucketsValue(p *[]float64) *value[[]float64] {
	return &value[[]float64]{p: p, parse: ParseBuckets, format: FormatBuckets}
}

// h2cValue is --http2-cleartext: off, prior-knowledge, upgrade or both, as
// Gunicorn 26.2 takes it ("true" is prior-knowledge, "false" off; given alone,
// prior-knowledge). Off is stored as "".
func h2cValue(p *string) *value[string] {
	format := func(m string) string {
		if m == "" {
			return H2COff
		}
		return m
	}
	return &value[string]{p: p, isBool: true, parse: ParseH2CMode, format: format}
}

// listFlag is a repeatable setting: the first use in a parse replaces the
// list (so the command line replaces GUNICORN_CMD_ARGS and config.yaml, and
// --bind the default address), later ones append. what names an item for the
// error an empty one gets ("" leaves that to check).
type listFlag struct {
	p     *[]string
	what  string
	check func(string) error
	set   bool
}

func (f *listFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return strings.Join(*f.p, ",")
}

func (f *listFlag) Set(s string) error {
	if s == "" && f.what != "" {
		return errors.New("must be " + f.what)
	}
	if f.check != nil {
		if err := f.check(s); err != nil {
			return err
		}
	}
	if !f.set {
		*f.p = nil
		f.set = true
	}
	*f.p = append(*f.p, s)
	return nil
}

// proxyProtocolFlag is Gunicorn 24.1's --proxy-protocol [MODE]: off, v1,
// v2 or auto (true, or the switch alone). It sets two fields.
type proxyProtocolFlag struct{ c *Values }

func (f *proxyProtocolFlag) IsBoolFlag() bool { return true }

func (f *proxyProtocolFlag) String() string {
	switch {
	case f == nil || f.c == nil || !f.c.ProxyProtocol:
		return "off"
	case f.c.ProxyProtocolVersion != "":
		return f.c.ProxyProtocolVersion
	}
	return "auto"
}

func (f *proxyProtocolFlag) Set(s string) error {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off", "false", "0":
		f.c.ProxyProtocol, f.c.ProxyProtocolVersion = false, ""
	case "auto", "true", "1", "":
		f.c.ProxyProtocol, f.c.ProxyProtocolVersion = true, ""
	case "v1", "v2":
		f.c.ProxyProtocol, f.c.ProxyProtocolVersion = true, strings.ToLower(strings.TrimSpace(s))
	default:
		return errors.New("must be off, v1, v2 or auto")
	}
	return nil
}

// fractionValue is a decimal number from min to max (a share, a ratio,
// percentage points); rule names the range in its error.
func fractionValue(p *float64, min, max float64, rule string) *value[float64] {
	return &value[float64]{p: p, format: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }, parse: func(s string) (float64, error) {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(v) || v < min || v > max {
			return 0, errors.New("must be " + rule)
		}
		return v, nil
	}}
}
