//go:build unix

package master

import (
	"fmt"
	"syscall"
)

// SysProcCredential is the credential to start a child with, or nil when
// this process already runs as c (after Drop, children simply inherit).
func (c *credentials) SysProcCredential() *syscall.Credential {
	if !c.needsChange() {
		return nil
	}
	return &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: c.Groups}
}

// Drop switches this process (every thread: Go does that on Linux since
// 1.16) to c: supplementary groups, then gid, then uid, the only order in
// which each step is still permitted. It fails without root unless there
// is nothing to change.
func (c *credentials) Drop() error {
	if !c.needsChange() {
		return nil
	}
	groups := make([]int, len(c.Groups))
	for i, g := range c.Groups {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("prefork: drop privileges to %s: setgroups: %w (only root can switch user)", c, err)
	}
	if err := syscall.Setgid(int(c.GID)); err != nil {
		return fmt.Errorf("prefork: drop privileges to %s: setgid: %w", c, err)
	}
	if err := syscall.Setuid(int(c.UID)); err != nil {
		return fmt.Errorf("prefork: drop privileges to %s: setuid: %w", c, err)
	}
	return nil
}

// workerCredential is what workers are started with (nil once the master
// itself dropped privileges: they inherit its user).
func (m *masterShell) workerCredential() *syscall.SysProcAttr {
	if m.prod == nil {
		return nil
	}
	if cred := m.prod.creds.SysProcCredential(); cred != nil {
		return &syscall.SysProcAttr{Credential: cred}
	}
	return nil
}

func setUmask(mask int) { syscall.Umask(mask) }
