package settings

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLinesSpellEachValueAsItsFlag(t *testing.T) {
	v := Values{Bind: []string{"127.0.0.1:1", "unix:/run/a.sock"}, Workers: 3, Timeout: -1, KeepAlive: 1500 * time.Millisecond,
		WorkerConnections: -1, MaxWorkerMemory: 512 << 20, ReadHeaderTimeout: 10 * time.Second}
	lines := Lines(&v)
	for _, want := range []string{
		"bind = 127.0.0.1:1,unix:/run/a.sock", "workers = 3", "timeout = 0", "keepalive = 1.5",
		"worker_connections = 0", "max_worker_memory = 512MiB", "read_header_timeout = 10", "http2_cleartext = off",
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("Lines lacks %q", want)
		}
	}
	if !slices.IsSorted(lines) {
		t.Error("Lines are not sorted")
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "threads ") {
			t.Errorf("a setting with no effect is printed: %q", l)
		}
	}
	other := OtherLines(&v)
	if slices.Contains(other, "workers = 3") || !slices.Contains(other, "read_header_timeout = 10") || len(other) >= len(lines) {
		t.Errorf("OtherLines keeps the server section's workers or drops the rest: %q", other)
	}
}
