//go:build linux && (386 || amd64 || arm)

package serving

// soReusePort is SO_REUSEPORT, which package syscall lacks on these ports.
const soReusePort = 0xf
