//go:build !unix

package prefork

import "errors"

func dupCloexec(int) (int, error) {
	return -1, errors.New("descriptor hand-over is not supported on this system")
}
