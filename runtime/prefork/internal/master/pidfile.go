package master

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// writePidFile writes this process's pid to path atomically.
func WritePidFile(path string) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("prefork: pid file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("prefork: pid file: %w", err)
	}
	return nil
}

// removePidFile removes path if it still holds this process's pid.
func RemovePidFile(path string) {
	b, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(b)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
