package prefork

import (
	"net"
	"os"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// The listener hand-over protocol (see the package doc); internal/serving
// binds, duplicates and inherits the listeners.
const (
	// EnvListenFDs is the number N of inherited listeners, at fds 3..3+N-1.
	EnvListenFDs = serving.EnvListenFDs
	// EnvListenNames is the comma-separated list of the listeners' addresses,
	// in fd order (informational).
	EnvListenNames = serving.EnvListenNames
)

// CheckBind is the one check of listen addresses, for flags and for the configuration
// engine: host:port, [ipv6]:port, unix:/path or fd://N. The error states the rule only.
func CheckBind(s string) error { return settings.CheckBind(s) }

// BindPort is the port of a host:port bind address; 0 for unix:, fd:// and bad ones.
func BindPort(s string) int { return settings.BindPort(s) }

// Bind listens on each address: "host:port", "[::1]:port", "unix:/path" (a
// stale socket file left by a dead process is removed first; a live one is an
// error) or "fd://N" (an already-listening descriptor). On error nothing stays
// open.
func Bind(addrs []string) ([]net.Listener, error) { return serving.Bind(addrs) }

// ListenerFiles duplicates each listener's descriptor (close-on-exec, without
// switching the socket to blocking mode as (*net.TCPListener).File would, see
// golang/go#24942) for exec.Cmd.ExtraFiles. The caller closes the files; the
// listeners stay usable.
func ListenerFiles(lns []net.Listener) ([]*os.File, error) { return serving.ListenerFiles(lns) }

// InheritEnv returns os.Environ() without any variables of this protocol
// (PREFORK_LISTEN_*, the worker's PREFORK_* variables, systemd's LISTEN_FDS,
// LISTEN_PID, LISTEN_FDNAMES) and with
// PREFORK_LISTEN_FDS and PREFORK_LISTEN_NAMES describing files, which must be
// the first entries of the child's exec.Cmd.ExtraFiles (fds 3, 4, ...).
func InheritEnv(files []*os.File, names []string) []string { return master.InheritEnv(files, names) }
