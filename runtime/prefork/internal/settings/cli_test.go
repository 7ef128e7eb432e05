package settings

import (
	"strings"
	"testing"
)

func TestSplitShell(t *testing.T) {
	for in, want := range map[string][]string{
		`-w 3  --bind 127.0.0.1:1`:         {"-w", "3", "--bind", "127.0.0.1:1"},
		`--access-logformat '%(h)s %(r)s'`: {"--access-logformat", "%(h)s %(r)s"},
		`-e "A=one \"two\"" -e B=x\ y`:     {"-e", `A=one "two"`, "-e", "B=x y"},
		`-n ''`:                            {"-n", ""},
		"":                                 nil,
	} {
		got, err := splitShell(in)
		if err != nil || strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
			t.Errorf("splitShell(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{`'open`, `"open`, `trailing\`} {
		if _, err := splitShell(bad); err == nil {
			t.Errorf("splitShell(%q): want an error", bad)
		}
	}
}
