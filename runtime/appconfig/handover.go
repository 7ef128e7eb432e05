package appconfig

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
)

// handOver is a loaded configuration as the master hands it to its workers
// (prefork.Config.ProgramConfig): JSON, with its type's fingerprint.
type handOver struct {
	Type   string          `json:"type"`
	Config json.RawMessage `json:"config"`
}

// Encode is cfg, a pointer to a loaded configuration, as the master hands it to each
// worker it starts (prefork.Config.ProgramConfig), so no worker reads config/. It is
// checked to decode into a value equal to cfg: a type of the user's own that would not
// arrive whole (state in unexported fields, numbers in an interface) is refused, naming
// its key, before any worker runs with less than its master loaded.
func Encode(cfg any) ([]byte, error) {
	js, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("appconfig: the configuration cannot be handed to workers: %w", err)
	}
	data, err := json.Marshal(handOver{Type: fingerprint(reflect.TypeOf(cfg)), Config: js})
	if err != nil {
		return nil, err
	}
	back := reflect.New(reflect.TypeOf(cfg).Elem())
	if err := Decode(data, back.Interface()); err != nil {
		return nil, err
	}
	if key, differs := difference(reflect.ValueOf(cfg).Elem(), back.Elem(), ""); differs {
		return nil, fmt.Errorf("%s: its value would not reach the workers whole (they take the master's configuration as JSON): use exported fields of concrete types, or give its type MarshalJSON and UnmarshalJSON", orTop(key))
	}
	return data, nil
}

// Decode sets *cfg, a pointer to the configuration's type, to what Encode encoded: a
// worker's whole configuration, as its master loaded it.
func Decode(data []byte, cfg any) error {
	var h handOver
	if err := json.Unmarshal(data, &h); err != nil {
		return fmt.Errorf("appconfig: the master's configuration: %w", err)
	}
	if h.Type != fingerprint(reflect.TypeOf(cfg)) {
		// A new binary on disk started by an old master (HUP): its sections differ.
		return fmt.Errorf("appconfig: the master's configuration is of another build of %s (its sections differ from this binary's): apply a build that changes them with USR2 or a restart, not HUP", reflect.TypeOf(cfg).Elem())
	}
	if err := json.Unmarshal(h.Config, cfg); err != nil {
		return fmt.Errorf("appconfig: the master's configuration: %w", err)
	}
	return nil
}

// fingerprint names t's shape: its fields, their types and tags, recursively.
func fingerprint(t reflect.Type) string {
	var b strings.Builder
	describeType(&b, t, map[reflect.Type]bool{})
	sum := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(sum[:16])
}

func describeType(b *strings.Builder, t reflect.Type, seen map[reflect.Type]bool) {
	fmt.Fprintf(b, "%s(%s)", t, t.Kind())
	if seen[t] {
		return // a recursive type: named already
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		describeType(b, t.Elem(), seen)
	case reflect.Map:
		describeType(b, t.Key(), seen)
		describeType(b, t.Elem(), seen)
	case reflect.Struct:
		b.WriteString("{")
		for i := range t.NumField() {
			f := t.Field(i)
			fmt.Fprintf(b, "%s %q ", f.Name, f.Tag)
			describeType(b, f.Type, seen)
			b.WriteString(";")
		}
		b.WriteString("}")
	}
}

// difference names the first key at which a and b differ, by their YAML names (a field
// with none by its Go name).
func difference(a, b reflect.Value, key string) (string, bool) {
	if reflect.DeepEqual(a.Interface(), b.Interface()) {
		return "", false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !a.IsNil() && !b.IsNil() && a.Elem().Type() == b.Elem().Type() {
			return difference(a.Elem(), b.Elem(), key)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			f := a.Type().Field(i)
			if !f.IsExported() {
				continue
			}
			name := yamlName(f)
			if name == "" {
				name = f.Name
			}
			if k, differs := difference(a.Field(i), b.Field(i), join(key, name)); differs {
				return k, true
			}
		}
	}
	return key, true
}
