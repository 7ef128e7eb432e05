package observe

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// readRSS returns the resident set size of process pid in bytes, from
// /proc/PID/statm (the second field, in pages). It is what --max-worker-memory
// compares against; on systems without /proc it returns an error and
// memory recycling stays off.
func ReadRSS(pid int) (int64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, fmt.Errorf("prefork: read RSS of pid %d: %w", pid, err)
	}
	return parseStatm(data, int64(os.Getpagesize()))
}

func parseStatm(data []byte, pageSize int64) (int64, error) {
	fields := bytes.Fields(data)
	if len(fields) < 2 {
		return 0, fmt.Errorf("prefork: malformed statm %q", data)
	}
	pages, err := strconv.ParseInt(string(fields[1]), 10, 64)
	if err != nil || pages < 0 {
		return 0, fmt.Errorf("prefork: malformed statm resident field %q", fields[1])
	}
	return pages * pageSize, nil
}
