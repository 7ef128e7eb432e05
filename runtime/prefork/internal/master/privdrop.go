package master

import (
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
)

// credentials is the user and group the service runs as after binding
// (--user, --group): workers are started with them, and the master
// switches to them once its sockets are bound.
type credentials struct {
	UID, GID uint32
	Groups   []uint32 // supplementary groups of the user (when named)
	User     string   // for messages
	Group    string
}

// lookupCredentials resolves --user and --group, each a name or a numeric
// id. A user alone runs with that user's primary group and supplementary
// groups; a group alone keeps the current user. Both empty returns nil.
func lookupCredentials(userName, groupName string) (*credentials, error) {
	if userName == "" && groupName == "" {
		return nil, nil
	}
	c := &credentials{UID: uint32(os.Getuid()), GID: uint32(os.Getgid()), User: userName, Group: groupName}
	if userName != "" {
		u, known, err := lookupUser(userName)
		if err != nil {
			return nil, fmt.Errorf("prefork: --user %s: %w", userName, err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("prefork: --user %s: non-numeric uid/gid %s/%s", userName, u.Uid, u.Gid)
		}
		c.UID, c.GID = uint32(uid), uint32(gid)
		if ids, err := u.GroupIds(); known && err == nil {
			for _, id := range ids {
				if g, err := strconv.ParseUint(id, 10, 32); err == nil {
					c.Groups = append(c.Groups, uint32(g))
				}
			}
		}
	}
	if groupName != "" {
		gid, err := lookupGroupID(groupName)
		if err != nil {
			return nil, fmt.Errorf("prefork: --group %s: %w", groupName, err)
		}
		c.GID = gid
	}
	if len(c.Groups) == 0 {
		c.Groups = []uint32{c.GID}
	}
	return c, nil
}

// lookupUser resolves a name or uid; known is false for a numeric uid
// without a passwd entry (containers), which runs with gid = uid.
func lookupUser(name string) (u *user.User, known bool, err error) {
	if _, err := strconv.ParseUint(name, 10, 32); err == nil {
		if u, err := user.LookupId(name); err == nil {
			return u, true, nil
		}
		return &user.User{Uid: name, Gid: name, Username: name}, false, nil
	}
	u, err = user.Lookup(name)
	if err != nil {
		return nil, false, fmt.Errorf("no such user (name or numeric uid expected)")
	}
	return u, true, nil
}

// lookupGroupID resolves a group name or numeric gid.
func lookupGroupID(name string) (uint32, error) {
	if id, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(id), nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, fmt.Errorf("no such group (name or numeric gid expected)")
	}
	id, err := strconv.ParseUint(g.Gid, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("non-numeric gid %s", g.Gid)
	}
	return uint32(id), nil
}

// CheckCredentials resolves --bind-group, --user and --group as the master
// will, so a name that does not resolve is refused with the configuration.
func CheckCredentials(user, group, bindGroup string) error {
	if bindGroup != "" {
		if _, err := lookupGroupID(bindGroup); err != nil {
			return fmt.Errorf("prefork: --bind-group %s: %w", bindGroup, err)
		}
	}
	_, err := lookupCredentials(user, group)
	return err
}

// needsChange reports whether this process is not already running as c.
func (c *credentials) needsChange() bool {
	return c != nil && (uint32(os.Geteuid()) != c.UID || uint32(os.Getegid()) != c.GID)
}

func (c *credentials) String() string {
	return fmt.Sprintf("uid %d gid %d", c.UID, c.GID)
}

// applyUnixSocketAccess sets the mode and owner of the unix sockets among
// lns (--bind-mode, --bind-group, and --user so the dropped master can
// still remove them). uid/gid -1 leave that id unchanged; mode 0 leaves the
// mode. Listeners that are not path-named unix sockets are skipped.
func applyUnixSocketAccess(lns []net.Listener, mode os.FileMode, uid, gid int) error {
	for _, ln := range lns {
		a, ok := ln.Addr().(*net.UnixAddr)
		if !ok || a.Name == "" || a.Name[0] == '@' {
			continue
		}
		if uid != -1 || gid != -1 {
			if err := os.Lchown(a.Name, uid, gid); err != nil {
				return fmt.Errorf("prefork: unix socket %s: chown: %w", a.Name, err)
			}
		}
		if mode != 0 {
			if err := os.Chmod(a.Name, mode); err != nil {
				return fmt.Errorf("prefork: unix socket %s: --bind-mode: %w", a.Name, err)
			}
		}
	}
	return nil
}
