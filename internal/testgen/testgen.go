// Package testgen gives the module's tests the folder a generated project is written into
// (Dir, Commit). The folder's path repeats from one test to the next, and from one run to
// the next, instead of being new each time as t.TempDir's is: Go's build cache keys a
// main-module package by its folder as well as its content, so a project built at a new
// path compiles every one of its packages (the vendored runtime's included) again, while
// one written again at the same path compiles only what changed. Each generated project of
// the test suites is built, vetted or tested, most of them from the same templates, so
// this is most of their compile time.
//
// A folder is one test's at a time, across processes: the slot's lock (flock) is held
// until the test ends, when the folder is removed. A test that needs a second project of
// the same name at once gets the next slot.
//
// It is for tests only: it imports "testing", and non-test code must not import it.
package testgen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"

	"github.com/scaffoldgo/scaffold/generators"
	"github.com/scaffoldgo/scaffold/generators/state"
)

// Commit writes files, a generated project, into Dir(t, name) and returns the folder.
func Commit(t testing.TB, files *generators.FileSet, name string) string {
	t.Helper()
	dir := Dir(t, name)
	if err := state.Commit(files, dir, false); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Dir returns a folder named name that does not exist yet, inside a parent that does,
// for the test's generated project; it is removed when the test ends. Its path is the one
// the last test that asked for name had, unless another test (of this process or
// another) holds that one now.
func Dir(t testing.TB, name string) string {
	t.Helper()
	if name == "" || name != filepath.Base(name) {
		t.Fatalf("testgen.Dir: %q is not a folder name", name)
	}
	root, err := rootDir()
	if err != nil {
		t.Fatalf("testgen.Dir: %v", err)
	}
	for slot := 0; ; slot++ {
		parent := filepath.Join(root, strconv.Itoa(slot))
		if err := os.MkdirAll(parent, 0o755); err != nil {
			t.Fatalf("testgen.Dir: %v", err)
		}
		lock, err := tryLock(filepath.Join(parent, name+".lock"))
		if err != nil {
			t.Fatalf("testgen.Dir: %v", err)
		}
		if lock == nil {
			continue // another test holds this slot's folder
		}
		dir := filepath.Join(parent, name)
		if err := removeAll(dir); err != nil { // left by a run that was killed
			lock.Close()
			t.Fatalf("testgen.Dir: %v", err)
		}
		t.Cleanup(func() {
			if err := removeAll(dir); err != nil {
				t.Errorf("testgen.Dir cleanup: %v", err)
			}
			lock.Close() // releases the flock
		})
		return dir
	}
}

var root struct {
	once sync.Once
	dir  string
	err  error
}

// rootDir is the folder of the slots: the system temp folder's scaffold-testgen-UID,
// made 0755 (a test may run a server as another user from a project), and refused when
// it is not a real folder of this user's.
func rootDir() (string, error) {
	root.once.Do(func() {
		dir := filepath.Join(os.TempDir(), "scaffold-testgen-"+strconv.Itoa(os.Getuid()))
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			root.err = err
			return
		}
		fi, err := os.Lstat(dir)
		if err != nil {
			root.err = err
			return
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !fi.IsDir() || !ok || int(st.Uid) != os.Getuid() {
			root.err = fmt.Errorf("%s is not a folder of user %d: remove it", dir, os.Getuid())
			return
		}
		root.dir = dir
	})
	return root.dir, root.err
}

// tryLock takes the exclusive flock of path without waiting: the open file holds it until
// closed (or the process ends). It returns nil, nil when another holds it.
func tryLock(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	return f, nil
}

// removeAll is os.RemoveAll that first makes the folders writable, as t.TempDir's cleanup
// does (a test may leave a read-only tree, such as a copied module cache).
func removeAll(dir string) error {
	err := os.RemoveAll(dir)
	if err == nil {
		return nil
	}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
	return os.RemoveAll(dir)
}
