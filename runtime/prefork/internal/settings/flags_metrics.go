package settings

import (
	"errors"
)

type bucketsFlag struct{ p *[]float64 }

func (f *bucketsFlag) String() string {
	if f == nil || f.p == nil {
		return ""
	}
	return FormatBuckets(*f.p)
}

func (f *bucketsFlag) Set(s string) error {
	bs, err := ParseBuckets(s)
	if err != nil {
		return err
	}
	*f.p = bs
	return nil
}

// bufferFlag maps 0 to write-through (-1), as Gunicorn maps 0 to off.
type bufferFlag struct{ p *int }

func (f *bufferFlag) String() string {
	if f == nil || f.p == nil || *f.p <= 0 {
		return "0"
	}
	return exactSize(int64(*f.p))
}

func (f *bufferFlag) Set(s string) error {
	n, err := ParseByteSize(s)
	if err != nil {
		return errors.New(TrimPkg(err))
	}
	if n > 16<<20 {
		return errors.New("must be at most 16MiB")
	}
	if n == 0 {
		n = -1
	}
	*f.p = int(n)
	return nil
}

// otlpEndpointFlag refuses anything but an http(s) URL.
type otlpEndpointFlag struct{ stringFlag }

func (f *otlpEndpointFlag) Set(s string) error {
	if s != "" && !ValidOTLPEndpoint(s) {
		return errors.New("must be an http:// or https:// URL (the Collector's OTLP/HTTP base, e.g. http://127.0.0.1:4318)")
	}
	return f.stringFlag.Set(s)
}
