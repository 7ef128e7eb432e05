package appconfig

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// Size is a number of bytes; in YAML, a variable or a flag it takes a unit too (1MiB).
type Size int64

var (
	durationType = reflect.TypeOf(time.Duration(0))
	sizeType     = reflect.TypeOf(Size(0))
)

// setLeaf parses raw into v with the one parser of v's kind. fromEnv splits lists at commas.
func setLeaf(v reflect.Value, raw string, fromEnv bool) error {
	switch {
	case v.Type() == durationType:
		d, err := prefork.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("%v, got %q", err, raw)
		}
		v.SetInt(int64(d))
	case v.Type() == sizeType:
		n, err := prefork.ParseSize(raw)
		if err != nil || strings.TrimSpace(raw) == "" {
			if err == nil {
				err = errors.New("must be a number of bytes, optionally with a unit (e.g. 512MiB, 1GB)")
			}
			return fmt.Errorf("%v, got %q", err, raw)
		}
		v.SetInt(n)
	case v.Kind() == reflect.String:
		v.SetString(raw)
	case v.Kind() == reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(raw))
		if err != nil {
			return fmt.Errorf("must be true or false, got %q", raw)
		}
		v.SetBool(b)
	case v.CanInt():
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a whole number, got %q", raw)
		}
		v.SetInt(n)
	case v.CanUint():
		n, err := strconv.ParseUint(strings.TrimSpace(raw), 10, v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a whole number, 0 or more, got %q", raw)
		}
		v.SetUint(n)
	case v.CanFloat():
		f, err := strconv.ParseFloat(strings.TrimSpace(raw), v.Type().Bits())
		if err != nil {
			return fmt.Errorf("must be a number, got %q", raw)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var items []string
		if fromEnv {
			for _, s := range strings.Split(raw, ",") {
				if s = strings.TrimSpace(s); s != "" {
					items = append(items, s)
				}
			}
		} else if raw != "" {
			items = []string{raw} // one value where a list goes: bind: 127.0.0.1:8000
		}
		v.Set(reflect.ValueOf(items).Convert(v.Type()))
	case fromEnv:
		return fmt.Errorf("a %s is set in the YAML files, not from a variable", v.Type())
	default:
		return errNotScalar
	}
	return nil
}

var yamlLinePrefix = regexp.MustCompile(`^line \d+: `)

// errNotScalar: a value of this type (a map, a list of numbers or of mappings...) is
// decoded by YAML itself.
var errNotScalar = errors.New("not a scalar")

// scalarKind reports whether v's type has one of the engine's parsers (setLeaf): the
// kinds a variable can set too.
func scalarKind(v reflect.Value) bool {
	switch {
	case v.Type() == durationType, v.Type() == sizeType:
		return true
	case v.Kind() == reflect.Slice:
		return v.Type().Elem().Kind() == reflect.String
	}
	switch v.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		return true
	}
	return false
}

// kindOf names what a value of v's type is written as.
func kindOf(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return "a duration such as 30s (or seconds: 30, 0.5)"
	case v.Type() == sizeType:
		return "a size such as 1048576 or 1MiB"
	case v.Kind() == reflect.String:
		return "a string"
	case v.Kind() == reflect.Bool:
		return "true or false"
	case v.CanInt(), v.CanUint():
		return "a whole number"
	case v.CanFloat():
		return "a number"
	case v.Kind() == reflect.Slice:
		return "a list (or one value)"
	}
	return "a mapping of keys"
}
