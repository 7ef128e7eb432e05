// Package serving is the runtime's front of the request: listening (bind addresses,
// SO_REUSEPORT, the listen backlog, the listener hand-over to workers and to a new
// master), the side servers of the health and metrics listeners, the uwsgi and FastCGI
// gateway protocols and the connection limit, the PROXY protocol, forwarded headers
// from trusted proxies, request IDs, and on them the serving chain of a worker or of
// Serve's single process (NewServingProc): the HTTP server and its drain, the strict
// HTTP/1 connection reader and request policy, TLS. It takes its own Config, which
// runtime/prefork makes from its public one.
package serving
