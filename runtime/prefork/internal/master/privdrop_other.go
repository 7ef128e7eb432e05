//go:build !unix

package master

import (
	"errors"
	"syscall"
)

// Drop is not supported where there are no unix users.
func (c *credentials) Drop() error {
	if !c.needsChange() {
		return nil
	}
	return errors.New("prefork: --user/--group need a unix system")
}

func (m *masterShell) workerCredential() *syscall.SysProcAttr { return nil }

func setUmask(int) {}
