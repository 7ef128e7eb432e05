package observe

import (
	"os"
	"testing"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/supervisor"
)

func TestReadRSSOfSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("no /proc on this system")
	}
	before, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if before <= 0 {
		t.Fatalf("RSS %d of a running process", before)
	}
	// Touching 64 MiB must show up in the resident set.
	buf := make([]byte, 64<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	after, err := ReadRSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if after-before < 32<<20 {
		t.Errorf("RSS grew by %d after touching 64MiB", after-before)
	}
	_ = buf[len(buf)-1]
	if _, err := ReadRSS(-1); err == nil {
		t.Error("want an error for a missing pid")
	}
}

func TestParseStatm(t *testing.T) {
	if n, err := parseStatm([]byte("1000 250 30 1 0 100 0\n"), 4096); err != nil || n != 250*4096 {
		t.Fatalf("got %d, %v", n, err)
	}
	for _, bad := range []string{"", "12", "1 x 3"} {
		if _, err := parseStatm([]byte(bad), 4096); err == nil {
			t.Errorf("parseStatm(%q): want error", bad)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{512: "512B", 2048: "2.0KiB", 300 << 20: "300.0MiB", 3 << 30: "3.0GiB"} {
		if got := supervisor.FormatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
