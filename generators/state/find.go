package state

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Find returns the project folder for start: the nearest folder holding scaffold.yaml,
// start itself or one above it, as git finds its repository. The result is relative when
// start is ("../.."), so paths built on it read from the working folder.
func Find(start string) (string, error) {
	abs, err := filepath.Abs(start)
	if err != nil {
		return "", err
	}
	dir := filepath.Clean(start)
	for {
		_, err := os.Stat(filepath.Join(abs, ManifestFile))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		parent := filepath.Dir(abs)
		if parent == abs {
			return "", fmt.Errorf("no %s in %s or any folder above it: run this inside a project made by `scaffold new` (or pass --dir)", ManifestFile, filepath.Clean(start))
		}
		abs, dir = parent, filepath.Join(dir, "..")
		if filepath.IsAbs(start) {
			dir = abs
		}
	}
}
