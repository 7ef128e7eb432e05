// Package observe is what the runtime tells about the traffic it serves: the access log
// (its format, buffer and fast path), per-request metrics as each worker counts them and
// their Prometheus text exposition, StatsD, and the memory (RSS) readings. It serves
// nothing and supervises nothing; runtime/prefork wires it in.
package observe
