package appconfig

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// Origins records where each key was set: "config/config.yaml:21", "env APP_SERVER_WORKERS",
// "flag --workers"; a key absent from it kept its default.
type Origins struct {
	dir      string
	mode     string
	at       map[string]string
	warnings []string
	// unused are platform variables ($PORT) that a file or variable overrode.
	unused []prefork.PlatformDefault
}

// Of says where the key at path ("server.workers") was set, or "default".
func (o *Origins) Of(path string) string {
	if o != nil {
		if at, ok := o.at[path]; ok {
			return at
		}
	}
	return "default"
}

// Set records that the key at path was set by origin (a flag, say).
func (o *Origins) Set(path, origin string) { o.at[path] = origin }

// originsJSON is Origins as it travels to workers (Encode).
type originsJSON struct {
	Dir      string                    `json:"dir"`
	Mode     string                    `json:"mode"`
	At       map[string]string         `json:"at"`
	Warnings []string                  `json:"warnings,omitempty"`
	Unused   []prefork.PlatformDefault `json:"unused,omitempty"`
}

// MarshalJSON lets a worker name where its master's values were set.
func (o *Origins) MarshalJSON() ([]byte, error) {
	return json.Marshal(originsJSON{o.dir, o.mode, o.at, o.warnings, o.unused})
}

// UnmarshalJSON is MarshalJSON's inverse.
func (o *Origins) UnmarshalJSON(data []byte) error {
	var j originsJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	o.dir, o.mode, o.at, o.warnings, o.unused = j.Dir, j.Mode, j.At, j.Warnings, j.Unused
	return nil
}

// Warnings lists what Load accepted but found no use for, one line each: APP_*
// variables that name no section (APP_VERSION, Kubernetes' APP_SERVICE_HOST), and
// $PORT or $WEB_CONCURRENCY where config/ sets bind or workers (which wins, as in
// Gunicorn; a flag that wins is the runtime's to report). The entry reports them once
// at start-up, with the runtime's settings of no effect, after the flags.
func (o *Origins) Warnings() []string {
	w := slices.Clone(o.warnings)
	for _, p := range o.unused {
		path := "server." + p.Key
		if at := o.Of(path); !strings.HasPrefix(at, "flag ") {
			w = append(w, fmt.Sprintf("%s=%s: not used: %s is set by %s, which wins (the variable only gives the default)", p.Variable, p.Given, path, at))
		}
	}
	return w
}

// Mode is the mode the configuration was read for.
func (o *Origins) Mode() string { return o.mode }

// Dir is the configuration directory it was read from.
func (o *Origins) Dir() string { return o.dir }

// Checker collects rule violations, each message starting with where the value came from.
func (o *Origins) Checker() *Checker { return &Checker{o: o} }

// Checker is what the sections' Validate methods report to.
type Checker struct {
	o    *Origins
	errs []error
}

// Check records format as a violation of the key at path unless ok.
func (c *Checker) Check(ok bool, path, format string, args ...any) {
	if ok {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if where := c.o.Of(path); where != "default" {
		c.errs = append(c.errs, fmt.Errorf("%s: %s: %s", where, path, msg))
	} else {
		c.errs = append(c.errs, fmt.Errorf("%s: %s (the default: not set in %s)", path, msg, c.o.Dir()))
	}
}

// Err is every violation, one per line, or nil.
func (c *Checker) Err() error { return errors.Join(c.errs...) }

// leaf is one configurable value of a struct.
type leaf struct {
	path  string
	v     reflect.Value
	field reflect.StructField
}

// walk calls fn for each leaf under v (a struct), in field order.
func walk(v reflect.Value, prefix string, fn func(leaf)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		f := v.Field(i)
		p := join(prefix, name)
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			walk(f, p, fn)
			continue
		}
		fn(leaf{path: p, v: f, field: t.Field(i)})
	}
}

func fieldByName(v reflect.Value, name string) (reflect.Value, bool) {
	for i := 0; i < v.NumField(); i++ {
		if n := yamlName(v.Type().Field(i)); n != "" && n == name {
			return v.Field(i), true
		}
	}
	return reflect.Value{}, false
}

func keys(t reflect.Type) []string {
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if n := yamlName(t.Field(i)); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// yamlName is a field's key; "" for unexported fields and yaml:"-".
func yamlName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" {
		return ""
	}
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

// suggest is ` (did you mean "x"?)` for the known name closest to s, or "".
func suggest(s string, known []string) string {
	if best := prefork.Closest(s, known); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}
