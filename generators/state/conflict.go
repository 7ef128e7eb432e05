package state

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/scaffoldgo/scaffold/generators/merge"
)

// OpenConflict reports whether an earlier conflict in p (in the folder dir) is still open: conflict markers in
// disk, or p's FILE.scaffold-new still beside it (aside).
func OpenConflict(dir, p string, disk []byte) (markers, aside bool, err error) {
	if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(p+ConflictSuffix))); err == nil {
		return false, true, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, false, err
	}
	return merge.HasMarkers(disk), false, nil
}

// HoldOpen makes p Unresolved when an earlier conflict in it is still open (OpenConflict):
// scaffold leaves it alone, and every later run lists it again until it is resolved. It
// reports whether it did, and whether the file holds conflict markers (else its
// FILE.scaffold-new is beside it).
func HoldOpen(dir string, p *Planned) (held, markers bool, err error) {
	if p.Old == nil {
		return false, false, nil
	}
	markers, aside, err := OpenConflict(dir, p.Path, p.Old)
	if err != nil || !(markers || aside) {
		return false, false, err
	}
	p.Change, p.Merged = Unresolved, nil
	return true, markers, nil
}
