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
