package settings

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

type accessFormatFlag struct{ p *string }

func (f *accessFormatFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *accessFormatFlag) Set(s string) error {
	if err := CheckAccessLogFormat(s); err != nil {
		return errors.New(TrimPkg(err))
	}
	*f.p = s
	return nil
}

type trustedFlag struct{ p *string }

func (f *trustedFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *trustedFlag) Set(s string) error {
	if _, err := ParsePeers(s); err != nil {
		return errors.New(TrimPkg(err))
	}
	if s == "" {
		s = "none" // Gunicorn's empty list: trust no IP (the zero value means the default)
	}
	*f.p = s
	return nil
}

type byteSizeFlag struct{ p *int64 }

func (f *byteSizeFlag) String() string {
	if f == nil || f.p == nil {
		return "0"
	}
	return exactSize(*f.p)
}

// exactSize spells a size so that it parses back to the same number of bytes: the
// largest binary unit that divides it, else bytes ("512MiB", "1000000000").
func exactSize(n int64) string {
	for _, u := range []struct {
		name string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.size == 0 {
			return strconv.FormatInt(n/u.size, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (f *byteSizeFlag) Set(s string) error {
	n, err := ParseByteSize(s)
	if err != nil {
		return errors.New(TrimPkg(err))
	}
	*f.p = n
	return nil
}

type octalFlag struct {
	p    *string
	name string
	max  uint64
}

func (f *octalFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

// Set keeps one spelling of the mode ("0660" for 660, 0660 or 0o660); "" leaves it
// unset (the default), as config.yaml's empty value means.
func (f *octalFlag) Set(s string) error {
	if s == "" {
		*f.p = ""
		return nil
	}
	m, err := ParseOctalMode(f.name, s, f.max)
	if err != nil {
		return errors.New(TrimPkg(err))
	}
	*f.p = fmt.Sprintf("%04o", m)
	return nil
}

// trimPkg drops the "prefork: " prefix: the flag package names the flag itself.
func TrimPkg(err error) string {
	s := err.Error()
	if len(s) > 9 && s[:9] == "prefork: " {
		return s[9:]
	}
	return s
}

type listenAddrFlag struct{ p *string }

func (f *listenAddrFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

// Set takes "" as off, as config.yaml's empty value means.
func (f *listenAddrFlag) Set(s string) error {
	if s == "" {
		*f.p = ""
		return nil
	}
	a, err := ParseAddr(s)
	if err != nil {
		return errors.Unwrap(err)
	}
	if a.Network == "fd" {
		return errors.New("must be host:port or unix:/path")
	}
	*f.p = s
	return nil
}

// pathFlag is a file path: anything but a line break or a NUL byte.
type pathFlag struct{ p *string }

func (f *pathFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *pathFlag) Set(s string) error {
	if strings.ContainsAny(s, "\n\x00") {
		return errors.New("must be a path (no line break or NUL byte)")
	}
	*f.p = s
	return nil
}
