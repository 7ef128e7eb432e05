package cmdutil

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/spf13/pflag"
)

// listValue is a comma-separated, repeatable list flag that takes a value whole or not at
// all. pflag's StringSlice reads its value as CSV, which keeps only the first line of
// "a.com\nevil.com" and gives quotes a meaning; this one refuses both.
type listValue struct {
	target  *[]string
	changed bool
}

// ListVar defines a list flag on fs: "a,b" and repeating the flag both append items.
func ListVar(fs *pflag.FlagSet, p *[]string, name, usage string) {
	fs.Var(&listValue{target: p}, name, usage)
}

// ParseList splits a list flag's value at commas; the error names the rule broken.
func ParseList(value string) ([]string, error) {
	for _, r := range value {
		if unicode.IsControl(r) {
			return nil, fmt.Errorf("%q holds a control character (%U); give items separated by commas, or repeat the flag", value, r)
		}
		if r == '"' {
			return nil, fmt.Errorf("%q holds a quote; list items cannot contain quotes", value)
		}
	}
	var items []string
	for _, item := range strings.Split(value, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			return nil, fmt.Errorf("%q has an empty item; separate items with single commas", value)
		}
		items = append(items, item)
	}
	return items, nil
}

func (l *listValue) Set(value string) error {
	items, err := ParseList(value)
	if err != nil {
		return err
	}
	if !l.changed {
		*l.target = nil
		l.changed = true
	}
	*l.target = append(*l.target, items...)
	return nil
}

func (l *listValue) String() string { return strings.Join(*l.target, ",") }
func (l *listValue) Type() string   { return "list" }
