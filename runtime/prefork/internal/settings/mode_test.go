package settings

import (
	"strings"
	"testing"
)

func TestParseOctalMode(t *testing.T) {
	for in, want := range map[string]uint32{"0660": 0o660, "660": 0o660, "0o600": 0o600, "022": 0o22, "0": 0} {
		if got, err := ParseOctalMode("bind-mode", in, 0o777); err != nil || got != want {
			t.Errorf("%q: %o %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "999", "rw-", "1777", "-1"} {
		if _, err := ParseOctalMode("bind-mode", bad, 0o777); err == nil || !strings.Contains(err.Error(), "--bind-mode") {
			t.Errorf("%q: want an error naming the flag, got %v", bad, err)
		}
	}
}
