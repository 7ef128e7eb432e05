//go:build linux && (386 || amd64 || arm)

package prefork

// soReusePort is SO_REUSEPORT, which package syscall lacks on these ports.
const soReusePort = 0xf
