package cmdutil

import (
	"fmt"
	"path/filepath"

	"github.com/scaffoldgo/scaffold/generators/state"
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// ProjectDir finds the project for a command run from dir (--dir, or the working folder)
// by walking up to the folder holding scaffold.yaml (state.Find), and says on ErrOut
// which folder it used when that is not dir itself.
func ProjectDir(io *iostreams.IOStreams, dir string) (string, error) {
	found, err := state.Find(dir)
	if err != nil {
		return "", err
	}
	if filepath.Clean(found) != filepath.Clean(dir) {
		abs, err := filepath.Abs(found)
		if err != nil {
			abs = found
		}
		fmt.Fprintf(io.ErrOut, "Using the project in %s (%s).\n", abs, state.ManifestFile)
	}
	return found, nil
}
