package prefork

import (
	"errors"
)

type accessFormatFlag struct{ p *string }

func (f *accessFormatFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return *f.p
}

func (f *accessFormatFlag) Set(s string) error {
	if _, err := newAccessLogTo(nil, s); err != nil {
		return errors.New(trimPkg(err))
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
	if _, err := parseTrustedProxies(s); err != nil {
		return errors.New(trimPkg(err))
	}
	if s == "" {
		s = "none" // Gunicorn's empty list: trust no IP (the zero value means the default)
	}
	*f.p = s
	return nil
}

type byteSizeFlag struct{ p *int64 }

func (f *byteSizeFlag) String() string {
	if f == nil || f.p == nil || *f.p == 0 {
		return "0"
	}
	return formatBytes(*f.p)
}

func (f *byteSizeFlag) Set(s string) error {
	n, err := parseByteSize(s)
	if err != nil {
		return errors.New(trimPkg(err))
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

func (f *octalFlag) Set(s string) error {
	if _, err := parseOctalMode(f.name, s, f.max); err != nil {
		return errors.New(trimPkg(err))
	}
	*f.p = s
	return nil
}

// trimPkg drops the "prefork: " prefix: the flag package names the flag itself.
func trimPkg(err error) string {
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

func (f *listenAddrFlag) Set(s string) error {
	a, err := parseAddr(s)
	if err != nil {
		return errors.Unwrap(err)
	}
	if a.network == "fd" {
		return errors.New("must be host:port or unix:/path")
	}
	*f.p = s
	return nil
}
