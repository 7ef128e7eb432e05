//go:build !unix

package prompter

import (
	"os"
	"time"
)

// answersQueries is true where the terminal cannot be polled: the form decides.
func answersQueries(in, out *os.File, timeout time.Duration) bool { return true }
