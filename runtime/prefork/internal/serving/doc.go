// Package serving is the runtime's front of the request: the uwsgi and FastCGI gateway
// protocols and the connection limit, the PROXY protocol, forwarded headers from trusted
// proxies, and request IDs. runtime/prefork builds its HTTP server and serving chain on
// it (the server, strict HTTP/1 request policy, TLS and listeners still live there).
package serving
