package project

import (
	"strings"
	"testing"
)

// A maintainer is "Name <address>" with a host that has a dot, in canonical form; anything
// else is refused with the rule, and nothing that goreleaser's templates or YAML would
// read as syntax gets through.
func TestValidateMaintainer(t *testing.T) {
	for in, want := range map[string]string{
		"Ada Lovelace <ada@example.com>":      "Ada Lovelace <ada@example.com>",
		"  Ada   Lovelace <ada@example.com> ": "Ada Lovelace <ada@example.com>",
		"José Núñez <jose@example.es>":        "José Núñez <jose@example.es>",
		PlaceholderMaintainer:                 PlaceholderMaintainer,
	} {
		got, err := ValidateMaintainer(in)
		if err != nil || got != want {
			t.Errorf("ValidateMaintainer(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ada@example.com", "<ada@example.com>", "Ada <ada@localhost>", "Ada <ada>",
		"Ada, Bob <ab@example.com>", `"Ada" <ada@example.com>`, "{{ .Env.X }} <x@example.com>", "Ada\n<ada@example.com>", `Ada\ <ada@example.com>`, "$USER <u@example.com>", "`id` <u@example.com>"} {
		_, err := ValidateMaintainer(bad)
		if err == nil || !strings.Contains(err.Error(), MaintainerRule) || !strings.HasPrefix(err.Error(), "maintainer ") {
			t.Errorf("ValidateMaintainer(%q) = %v, want an error naming the maintainer and the rule", bad, err)
		}
	}
}
