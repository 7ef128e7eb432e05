//go:build !unix

package serving

import "errors"

func dupCloexec(int) (int, error) {
	return -1, errors.New("descriptor hand-over is not supported on this system")
}
