package observe

import (
	"io"
	"sync"
	"time"
)

// Access log buffering, nginx's access_log buffer=/flush= model: lines
// collect in memory and are written together when the buffer is full, when
// the oldest line has waited AccessLogFlush, and when the log is reopened
// (USR1), closed (the worker exits: drained, told to quit, or its master is
// gone). One write(2) per buffer instead of one per request.
//
// The trade-off: lines still in the buffer when the process is SIGKILLed
// (the OOM killer, a kill after the graceful timeout) are lost: at most
// AccessLogFlush of them. AccessLogBuffer < 0 writes every line through.
//
// The default buffer, 4096 bytes, is PIPE_BUF on Linux: a write to a pipe
// (stdout under systemd, supervisor or a container runtime) of at most that
// size is atomic, so the lines of several workers never interleave. Files
// are opened O_APPEND, where any single write is placed whole; a larger
// buffer is safe there.
const (
	DefaultAccessLogBuffer = 4096
	DefaultAccessLogFlush  = time.Second
)

// bufferedLog is an io.Writer of whole lines with a bounded flush delay.
type bufferedLog struct {
	mu    sync.Mutex
	out   io.Writer
	buf   []byte
	size  int
	timer *time.Timer // armed while buf holds lines
	every time.Duration
	err   error // last write error, for Flush
}

func newBufferedLog(out io.Writer, size int, every time.Duration) *bufferedLog {
	b := &bufferedLog{out: out, size: size, every: every, buf: make([]byte, 0, size)}
	b.timer = time.AfterFunc(time.Hour, func() { b.Flush() })
	b.timer.Stop()
	return b
}

// Write takes one or more whole lines.
func (b *bufferedLog) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf)+len(p) > b.size {
		b.flushLocked()
		if len(p) > b.size { // a line longer than the buffer goes out alone
			_, err := b.out.Write(p)
			return len(p), err
		}
	}
	if len(b.buf) == 0 {
		b.timer.Reset(b.every)
	}
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *bufferedLog) flushLocked() {
	if len(b.buf) == 0 {
		return
	}
	b.timer.Stop()
	_, b.err = b.out.Write(b.buf)
	b.buf = b.buf[:0]
}

// Flush writes the buffered lines now.
func (b *bufferedLog) Flush() error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	return b.err
}

// setBuffer turns on buffering (size < 0: write through; 0: the defaults).
func (a *AccessLog) SetBuffer(size int, every time.Duration) {
	if a == nil || size < 0 {
		return
	}
	if size == 0 {
		size = DefaultAccessLogBuffer
	}
	if every <= 0 {
		every = DefaultAccessLogFlush
	}
	a.buffered = newBufferedLog(a.out, size, every)
	a.out = a.buffered
}

// Flush writes buffered lines now (a no-op when writing through).
func (a *AccessLog) Flush() error {
	if a == nil {
		return nil
	}
	return a.buffered.Flush()
}
