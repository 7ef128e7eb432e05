package master

import (
	"os"
	"time"
)

// fileWatch is --reload: the master checks the binary on disk and the
// --reload-extra-file files once a second, and reports a change once it
// settled (the same size and time at two checks in a row), so a binary
// still being copied is not started half-written. The loop steps the
// supervisor with evFilesChanged, which reloads like HUP.
type FileWatch struct {
	paths   []string
	seen    map[string]fileStamp
	pending map[string]fileStamp // changed at the last check, not yet settled
	next    time.Time
}

type fileStamp struct {
	size    int64
	modTime time.Time
	missing bool
}

const watchEvery = time.Second

func NewFileWatch(paths []string) *FileWatch {
	w := &FileWatch{paths: paths, seen: map[string]fileStamp{}, pending: map[string]fileStamp{}}
	for _, p := range paths {
		w.seen[p] = stampOf(p)
	}
	return w
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return fileStamp{size: fi.Size(), modTime: fi.ModTime()}
}

// check returns the files whose change settled since the last report.
func (w *FileWatch) Check(now time.Time) []string {
	if w == nil || now.Before(w.next) {
		return nil
	}
	w.next = now.Add(watchEvery)
	var changed []string
	for _, p := range w.paths {
		st := stampOf(p)
		if st == w.seen[p] {
			delete(w.pending, p)
			continue
		}
		if prev, ok := w.pending[p]; ok && prev == st && !st.missing {
			w.seen[p] = st
			delete(w.pending, p)
			changed = append(changed, p)
			continue
		}
		w.pending[p] = st // changed (or still changing): wait for it to settle
	}
	return changed
}
