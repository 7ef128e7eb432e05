package appconfig

import (
	"fmt"
	"io"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Print writes the effective configuration in cfg (a struct or a pointer to one) as
// YAML, each value followed by where it was set. A field tagged secret:"true" (a DSN)
// is printed with its password masked.
func Print(w io.Writer, cfg any, o *Origins) error {
	v := reflect.Indirect(reflect.ValueOf(cfg))
	fmt.Fprintf(w, "# The effective configuration (%s=%s, from %s), each value with where it was set.\n", EnvMode, o.Mode(), o.Dir())
	doc := node(v, "", o)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

func node(v reflect.Value, prefix string, o *Origins) *yaml.Node {
	m := &yaml.Node{Kind: yaml.MappingNode}
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := yamlName(t.Field(i))
		if name == "" {
			continue
		}
		f, p := v.Field(i), join(prefix, name)
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: name}
		var val *yaml.Node
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			val = node(f, p, o)
		} else {
			val = scalar(f, t.Field(i).Tag.Get("secret") == "true")
			val.LineComment = o.Of(p)
		}
		m.Content = append(m.Content, key, val)
	}
	return m
}

func scalar(v reflect.Value, secret bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode}
	switch {
	case v.Type() == durationType:
		n.Value = time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		n.Kind, n.Style = yaml.SequenceNode, yaml.FlowStyle
		for i := 0; i < v.Len(); i++ {
			n.Content = append(n.Content, scalar(v.Index(i), secret))
		}
		return n
	case v.Kind() == reflect.String:
		n.Value = v.String()
		if secret {
			n.Value = Mask(n.Value)
		}
		// Quote what YAML would read as something else: "", "true", "8000", "null".
		var back any
		if yaml.Unmarshal([]byte(n.Value), &back) != nil || back != n.Value {
			n.Style = yaml.DoubleQuotedStyle
		}
	case v.Kind() == reflect.Bool:
		n.Value = strconv.FormatBool(v.Bool())
	case v.CanInt():
		n.Value = strconv.FormatInt(v.Int(), 10)
	case v.CanUint():
		n.Value = strconv.FormatUint(v.Uint(), 10)
	case v.CanFloat():
		n.Value = strconv.FormatFloat(v.Float(), 'g', -1, v.Type().Bits())
	default:
		// A type of the user's own: as YAML writes it, in flow style to stay on its line.
		if err := n.Encode(v.Interface()); err != nil {
			n.Kind, n.Value = yaml.ScalarNode, fmt.Sprint(v.Interface())
		}
		setFlow(n)
	}
	return n
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for _, c := range n.Content {
		setFlow(c)
	}
}

// Mask hides a password in a URL (user:password@, ?password=) or in a key=value DSN
// (password=... or password='...'), for --print-config and logs; anything else is
// returned as it is.
func Mask(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Opaque == "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return keyValuePassword.ReplaceAllString(dsn, "${1}xxxxx")
}

var keyValuePassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)
