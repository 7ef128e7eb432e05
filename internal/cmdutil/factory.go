package cmdutil

import (
	"github.com/scaffoldgo/scaffold/internal/iostreams"
)

// Factory carries the dependencies commands share, so tests can replace them.
type Factory struct {
	IOStreams *iostreams.IOStreams
}
