package settings

import "testing"

func TestClosestSuggestsTyposOnly(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		d    int
	}{{"stauts", "status", 1}, {"status", "status", 0}, {"wokers", "workers", 1}, {"", "bind", 4}, {"bnid", "bind", 1}} {
		if d := EditDistance(tc.a, tc.b); d != tc.d {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, d, tc.d)
		}
	}
	known := []string{"workers", "worker-connections", "bind", "status"}
	for s, want := range map[string]string{"wokers": "workers", "STAUTS": "status", "bnid": "bind", "timeout": "", "x": ""} {
		if got := Closest(s, known); got != want {
			t.Errorf("Closest(%q) = %q, want %q", s, got, want)
		}
	}
}
