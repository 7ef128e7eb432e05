package cmdutil

import (
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestParseList(t *testing.T) {
	good := map[string][]string{
		"a.com":                     {"a.com"},
		"a.com,b.com":               {"a.com", "b.com"},
		" a.com , b.com ":           {"a.com", "b.com"},
		"127.0.0.1:8001,[::1]:8002": {"127.0.0.1:8001", "[::1]:8002"},
	}
	for in, want := range good {
		got, err := ParseList(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseList(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := map[string]string{
		"a.com\nevil.com": "control character",
		"a.com\r":         "control character",
		"a\tb":            "control character",
		`"a.com"`:         "quote",
		"a.com,,b.com":    "empty item",
		"a.com,":          "empty item",
		"":                "empty item",
	}
	for in, want := range bad {
		if _, err := ParseList(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseList(%q) = %v, want an error mentioning %q", in, err, want)
		}
	}
}

func TestListVarRepeatsAndRefuses(t *testing.T) {
	var got []string
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	ListVar(fs, &got, "domain", "")
	if err := fs.Parse([]string{"--domain", "a.com,b.com", "--domain", "c.com"}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"a.com", "b.com", "c.com"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	fs = pflag.NewFlagSet("x", pflag.ContinueOnError)
	ListVar(fs, &got, "domain", "")
	err := fs.Parse([]string{"--domain", "a.com\nevil.com"})
	if err == nil || !strings.Contains(err.Error(), "--domain") || !strings.Contains(err.Error(), "control character") {
		t.Fatalf("newline in --domain: %v", err)
	}
}
