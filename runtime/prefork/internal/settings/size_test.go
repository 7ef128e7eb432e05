package settings

import "testing"

func TestParseByteSize(t *testing.T) {
	for in, want := range map[string]int64{
		"":         0,
		"0":        0,
		"1024":     1024,
		"512MB":    512e6,
		"512mib":   512 << 20,
		"512M":     512 << 20,
		"1GiB":     1 << 30,
		"1 GB":     1e9,
		"1.5GiB":   3 << 29,
		"100k":     100 << 10,
		"2TB":      2e12,
		" 64 KiB ": 64 << 10,
		"123b":     123,
	} {
		got, err := ParseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"MB", "-1", "12XB", "1.2.3M", "99999999999TB", "1e3"} {
		if _, err := ParseByteSize(bad); err == nil {
			t.Errorf("parseByteSize(%q): want error", bad)
		}
	}
}
