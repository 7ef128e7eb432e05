// Package serving is the runtime's front of the request: listening (bind addresses,
// SO_REUSEPORT, the listen backlog, the listener hand-over to workers and to a new
// master), the side servers of the health and metrics listeners, the uwsgi and FastCGI
// gateway protocols and the connection limit, the PROXY protocol, forwarded headers
// from trusted proxies, and request IDs. runtime/prefork builds its HTTP server and
// serving chain on it (the server, strict HTTP/1 request policy and TLS still live
// there).
package serving
