package observe

import (
	"fmt"
	"os"
	"sync"
)

// logFile is the runtime's one reopenable log file, for the error log and
// the access log: append-only, reopened at the same path (USR1, after
// logrotate moved it) while other goroutines write to it. "-" (and "") is a
// standard stream (stderr for the error log, stdout for the access log),
// which Reopen and Close leave alone.
type LogFile struct {
	mu   sync.RWMutex
	path string
	f    *os.File
	std  bool
}

// openLogFile opens path for appending, creating it with mode 0644; "-" or
// "" is std.
func OpenLogFile(path string, std *os.File) (*LogFile, error) {
	if path == "" || path == "-" {
		return &LogFile{path: "-", f: std, std: true}, nil
	}
	lf := &LogFile{path: path}
	if err := lf.Reopen(); err != nil {
		return nil, err
	}
	return lf, nil
}

// Write appends p with a single write call.
func (l *LogFile) Write(p []byte) (int, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.f == nil {
		return 0, os.ErrClosed
	}
	return l.f.Write(p)
}

// Reopen opens the path again and swaps the file in; the old one is closed
// once no write is using it. On error the old file stays in use.
func (l *LogFile) Reopen() error {
	if l.std {
		return nil
	}
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("prefork: log file %s: %w", l.path, err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		return old.Close()
	}
	return nil
}

// file returns the current file (for the Go runtime's crash output), nil
// for a standard stream.
func (l *LogFile) File() *os.File {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.std {
		return nil
	}
	return l.f
}

// Close closes the file; a standard stream is not closed.
func (l *LogFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.f
	l.f = nil
	if f == nil || l.std {
		return nil
	}
	return f.Close()
}
