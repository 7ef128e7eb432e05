package testgen

import (
	"os"
	"path/filepath"
	"testing"
)

// A folder's path repeats once its test ended, a second folder of the same name held at
// once gets another path, and each is gone with its test.
func TestDirRepeatsOnlyOnceFree(t *testing.T) {
	var first, again, second string
	t.Run("first", func(t *testing.T) {
		first = Dir(t, "testgen-demo")
		if _, err := os.Stat(first); !os.IsNotExist(err) {
			t.Errorf("Dir returned %s, which exists (%v)", first, err)
		}
		if fi, err := os.Stat(filepath.Dir(first)); err != nil || !fi.IsDir() || fi.Mode().Perm()&0o055 != 0o055 {
			t.Errorf("the parent of %s: %v %v, want a folder others may enter", first, fi, err)
		}
		if err := os.MkdirAll(filepath.Join(first, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Run("held", func(t *testing.T) {
			second = Dir(t, "testgen-demo")
		})
	})
	if _, err := os.Stat(first); !os.IsNotExist(err) {
		t.Errorf("%s is still there after its test (%v)", first, err)
	}
	t.Run("again", func(t *testing.T) { again = Dir(t, "testgen-demo") })
	if first != again {
		t.Errorf("a test after the first got %s, want the first's %s", again, first)
	}
	if second == first || filepath.Base(second) != "testgen-demo" {
		t.Errorf("a folder asked for while the first was held is %s (first %s)", second, first)
	}
}

// Another process's hold on a slot (the lock is per open file, as between processes) is
// respected.
func TestDirSkipsASlotLockedElsewhere(t *testing.T) {
	var free string
	t.Run("probe", func(t *testing.T) { free = Dir(t, "testgen-locked") })
	lock, err := tryLock(filepath.Join(filepath.Dir(free), "testgen-locked.lock"))
	if err != nil || lock == nil {
		t.Fatalf("taking the free slot's lock: %v", err)
	}
	defer lock.Close()
	if got := Dir(t, "testgen-locked"); got == free {
		t.Errorf("Dir returned %s, whose lock is held", got)
	}
}
