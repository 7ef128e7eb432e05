package settings

import (
	"slices"
	"strings"
)

// Lines are v's settings as --print-config prints them: "name = value" with
// Gunicorn's setting names, each value in its flag's one spelling, sorted as
// Gunicorn sorts them. v is the effective configuration (defaults applied);
// settings with no effect are left out. ReadHeaderTimeout, which has no flag,
// is printed too.
func Lines(v *Values) []string {
	lines := []string{"read_header_timeout = " + Seconds(v.ReadHeaderTimeout)}
	for i := range Table {
		s := &Table[i]
		if s.Value == nil || s.NoEffect != "" {
			continue
		}
		lines = append(lines, s.Name+" = "+s.Value(v).String())
	}
	slices.Sort(lines)
	return lines
}

// OtherLines are Lines without the settings config.yaml's server section holds
// (a Key), for a program that prints that section itself.
func OtherLines(v *Values) []string {
	held := map[string]bool{}
	for i := range Table {
		if Table[i].Key != "" {
			held[Table[i].Name] = true
		}
	}
	var lines []string
	for _, l := range Lines(v) {
		if name, _, _ := strings.Cut(l, " = "); !held[name] {
			lines = append(lines, l)
		}
	}
	return lines
}
