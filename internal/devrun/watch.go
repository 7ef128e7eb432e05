package devrun

import (
	"context"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/scaffoldgo/scaffold/runtime/appconfig"
)

// changeKind says what a changed file asks of the runner.
type changeKind int

const (
	changeIgnored changeKind = iota
	changeStatic             // served from disk by the app: nothing to do
	changeConfig             // read at start-up: restart, no rebuild needed
	changeCode               // compiled or embedded: rebuild and restart
)

// ignoredDir reports directories never watched: VCS data, build output, dependencies,
// editor and tool state.
func ignoredDir(name string) bool {
	switch name {
	case ".git", "bin", "dist", "tmp", "node_modules", "vendor", "testdata":
		return true
	}
	return strings.HasPrefix(name, ".") && name != "."
}

// ignoredFile reports editor temporaries (vim's 4913 and swap files, emacs lock and backup
// files, atomic-save leftovers).
func ignoredFile(name string) bool {
	switch {
	case name == "4913",
		strings.HasPrefix(name, ".#"),
		strings.HasSuffix(name, "~"),
		strings.HasSuffix(name, ".swp"), strings.HasSuffix(name, ".swx"), strings.HasSuffix(name, ".swo"),
		strings.HasSuffix(name, ".tmp"):
		return true
	}
	return false
}

// classify decides what a change to rel (slash-separated, relative to the project) needs.
func classify(rel, staticDir string) changeKind {
	if rel == appconfig.DotEnvFile {
		return changeConfig // the project's .env: APP_* values of the development mode
	}
	dir, name := path.Split(rel)
	if ignoredFile(name) {
		return changeIgnored
	}
	for _, d := range strings.Split(strings.TrimSuffix(dir, "/"), "/") {
		if d != "" && ignoredDir(d) {
			return changeIgnored
		}
	}
	if staticDir != "" && strings.HasPrefix(rel, staticDir+"/") {
		return changeStatic
	}
	switch ext := path.Ext(name); {
	case ext == ".go":
		if strings.HasSuffix(name, "_test.go") {
			return changeIgnored // tests are not part of the binary
		}
		return changeCode
	case name == "go.mod" || name == "go.sum":
		return changeCode
	case ext == ".html" || ext == ".tmpl" || ext == ".tpl" || ext == ".gohtml":
		return changeCode // templates are embedded
	case dir == "config/" && (ext == ".yaml" || ext == ".yml"):
		return changeConfig
	}
	return changeIgnored
}

// batch is one debounced set of relevant changes.
type batch struct {
	files []string // slash-separated, relative to the project, sorted
	kind  changeKind
}

// watcher reports debounced batches of relevant changes under root.
type watcher struct {
	root      string
	staticDir string
	debounce  time.Duration
	poll      time.Duration // > 0: stat-based polling instead of fsnotify
	out       chan batch
	errs      chan error // non-fatal watch errors, for the log
}

func newWatcher(root, staticDir string, debounce, poll time.Duration) *watcher {
	return &watcher{root: root, staticDir: staticDir, debounce: debounce, poll: poll,
		out: make(chan batch), errs: make(chan error, 8)}
}

// start begins watching; the goroutine it starts ends with ctx. An error means nothing is
// watched.
func (w *watcher) start(ctx context.Context) error {
	raw := make(chan string, 256)
	if w.poll > 0 {
		snap := w.snapshot()
		go w.pollLoop(ctx, snap, raw)
	} else {
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			return err
		}
		if err := w.addTree(fw, w.root, nil); err != nil {
			fw.Close()
			return err
		}
		go w.notifyLoop(ctx, fw, raw)
	}
	go w.debounceLoop(ctx, raw)
	return nil
}

// rel turns an absolute path under root into the slash-separated relative form.
func (w *watcher) rel(p string) (string, bool) {
	r, err := filepath.Rel(w.root, p)
	if err != nil || r == "." || strings.HasPrefix(r, "..") {
		return "", false
	}
	return filepath.ToSlash(r), true
}

// addTree watches dir and every directory below it that is not ignored; with found set,
// it also reports the files already there (a directory created, then filled, before its
// watch was added).
func (w *watcher) addTree(fw *fsnotify.Watcher, dir string, found func(string)) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil // vanished meanwhile
		}
		if d.IsDir() {
			if p != w.root && ignoredDir(d.Name()) {
				return filepath.SkipDir
			}
			if err := fw.Add(p); err != nil && p == dir {
				return err
			}
			return nil
		}
		if found != nil {
			found(p)
		}
		return nil
	})
}

func (w *watcher) notifyLoop(ctx context.Context, fw *fsnotify.Watcher, raw chan<- string) {
	defer fw.Close()
	send := func(p string) {
		select {
		case raw <- p:
		case <-ctx.Done():
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			select {
			case w.errs <- err:
			default:
			}
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if ev.Op == fsnotify.Chmod {
				continue
			}
			if ev.Has(fsnotify.Create) {
				if fi, err := os.Lstat(ev.Name); err == nil && fi.IsDir() {
					if !ignoredDir(filepath.Base(ev.Name)) {
						w.addTree(fw, ev.Name, send)
					}
					continue
				}
			}
			send(ev.Name)
		}
	}
}

// fileStamp is what polling compares.
type fileStamp struct {
	mod  time.Time
	size int64
}

// snapshot stats every file of interest under root.
func (w *watcher) snapshot() map[string]fileStamp {
	snap := map[string]fileStamp{}
	filepath.WalkDir(w.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if p != w.root && ignoredDir(d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		r, ok := w.rel(p)
		if !ok || classify(r, w.staticDir) == changeIgnored {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			snap[p] = fileStamp{fi.ModTime(), fi.Size()}
		}
		return nil
	})
	return snap
}

func (w *watcher) pollLoop(ctx context.Context, prev map[string]fileStamp, raw chan<- string) {
	t := time.NewTicker(w.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur := w.snapshot()
		var changed []string
		for p, st := range cur {
			if old, ok := prev[p]; !ok || old != st {
				changed = append(changed, p)
			}
		}
		for p := range prev {
			if _, ok := cur[p]; !ok {
				changed = append(changed, p)
			}
		}
		prev = cur
		for _, p := range changed {
			select {
			case raw <- p:
			case <-ctx.Done():
				return
			}
		}
	}
}

// debounceLoop gathers relevant changes until none arrived for the debounce period, then
// reports them as one batch.
func (w *watcher) debounceLoop(ctx context.Context, raw <-chan string) {
	pending := map[string]changeKind{}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case p := <-raw:
			r, ok := w.rel(p)
			if !ok {
				continue
			}
			k := classify(r, w.staticDir)
			if k == changeIgnored {
				continue
			}
			pending[r] = k
			timer.Reset(w.debounce)
		case <-timer.C:
			b := batch{kind: changeIgnored}
			for r, k := range pending {
				b.files = append(b.files, r)
				b.kind = max(b.kind, k)
			}
			slices.Sort(b.files)
			clear(pending)
			select {
			case w.out <- b:
			case <-ctx.Done():
				return
			}
		}
	}
}
