package observe

import (
	"io"
	"runtime"
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
//
// No lock is shared by all of a worker's requests: the buffer is split in shards (one per
// P), a line goes to the first shard whose lock is free (TryLock, in shard order), and a
// request waits only if every shard is taken at once. A lock is held for a copy of one
// line; the write(2) of a full shard happens after the shard's buffer was swapped for an
// empty one, outside its lock. Requests one after another all find the first shard free,
// so their lines stay in order; only lines of requests that ended at the same moment can
// land in different shards and be written in another order (as lines of two workers are).
type bufferedLog struct {
	out    io.Writer
	size   int
	every  time.Duration
	shards []logShard
	spare  sync.Pool // *[]byte: empty buffers of cap size, swapped in for a full one
	errMu  sync.Mutex
	err    error // the last write's error, for Flush
}

type logShard struct {
	mu    sync.Mutex
	buf   []byte
	timer *time.Timer // armed while buf holds lines
	_     [64]byte    // a cache line apart: shards are taken by different Ps
}

func newBufferedLog(out io.Writer, size int, every time.Duration, shards int) *bufferedLog {
	b := &bufferedLog{out: out, size: size, every: every, shards: make([]logShard, max(1, shards))}
	b.spare.New = func() any { buf := make([]byte, 0, size); return &buf }
	for i := range b.shards {
		s := &b.shards[i]
		s.buf = make([]byte, 0, size)
		s.timer = time.AfterFunc(time.Hour, func() { b.flushShard(s) })
		s.timer.Stop()
	}
	return b
}

// Write takes one or more whole lines.
func (b *bufferedLog) Write(p []byte) (int, error) {
	s := b.lockShard()
	var full *[]byte
	if len(s.buf)+len(p) > b.size && len(s.buf) > 0 {
		full = b.swapLocked(s)
	}
	long := len(p) > b.size // a line longer than the buffer goes out alone, after the shard's
	if !long {
		if len(s.buf) == 0 {
			s.timer.Reset(b.every)
		}
		s.buf = append(s.buf, p...)
	}
	s.mu.Unlock()
	if full != nil {
		b.writeOut(full)
	}
	if long {
		b.record(b.out.Write(p))
	}
	return len(p), nil
}

// lockShard locks the first free shard, or waits for the first when all are taken.
func (b *bufferedLog) lockShard() *logShard {
	for i := range b.shards {
		if s := &b.shards[i]; s.mu.TryLock() {
			return s
		}
	}
	s := &b.shards[0]
	s.mu.Lock()
	return s
}

// swapLocked takes s's lines out, leaving it an empty buffer; the caller writes them
// (writeOut) after unlocking s.
func (b *bufferedLog) swapLocked(s *logShard) *[]byte {
	spare := b.spare.Get().(*[]byte)
	full := s.buf
	s.buf, *spare = (*spare)[:0], full
	s.timer.Stop()
	return spare
}

// writeOut writes swapLocked's lines, then keeps their buffer for another swap.
func (b *bufferedLog) writeOut(full *[]byte) {
	b.record(b.out.Write(*full))
	*full = (*full)[:0]
	b.spare.Put(full)
}

func (b *bufferedLog) record(_ int, err error) {
	b.errMu.Lock()
	b.err = err
	b.errMu.Unlock()
}

func (b *bufferedLog) flushShard(s *logShard) {
	s.mu.Lock()
	if len(s.buf) == 0 {
		s.mu.Unlock()
		return
	}
	full := b.swapLocked(s)
	s.mu.Unlock()
	b.writeOut(full)
}

// Flush writes the buffered lines now (a full buffer that a request swapped out is
// written by that request, which the log file's own lock keeps whole across a Reopen).
func (b *bufferedLog) Flush() error {
	if b == nil {
		return nil
	}
	for i := range b.shards {
		b.flushShard(&b.shards[i])
	}
	b.errMu.Lock()
	defer b.errMu.Unlock()
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
	a.buffered = newBufferedLog(a.out, size, every, runtime.GOMAXPROCS(0))
	a.out = a.buffered
}

// Flush writes buffered lines now (a no-op when writing through).
func (a *AccessLog) Flush() error {
	if a == nil {
		return nil
	}
	return a.buffered.Flush()
}
