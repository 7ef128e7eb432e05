// Package serving is the runtime's front of the request: listening (bind addresses,
// SO_REUSEPORT, the listen backlog, the listener hand-over to workers and to a new
// master), the side servers of the health and metrics listeners, the uwsgi and FastCGI
// gateway protocols and the connection limit, the PROXY protocol, forwarded headers
// from trusted proxies, request IDs, and on them the serving chain of a worker or of
// Serve's single process (NewServingProc): the HTTP server and its drain, the strict
// HTTP/1 connection reader and request policy, TLS. It takes its own Config, which
// runtime/prefork makes from its public one.
//
// Requests are held to Gunicorn 27's parser before the app sees them
// (requestpolicy.go): on the HTTP/1 paths (plain, PROXY
// protocol, TLS once the handshake chose HTTP/1) a connection reader
// (strictconn.go) checks each head and chunked body as it arrives and
// refuses with Gunicorn's status: 400 for a malformed request line or
// header (whitespace before a colon, obsolete folding, control characters
// in the path or a value, a name with "_" other than a trusted
// --forwarder-headers one, a duplicate Host, Content-Type or
// Content-Length, Content-Length other than digits, both Content-Length
// and Transfer-Encoding, Transfer-Encoding not ending in chunked, a chunk
// size that is not hex, chunk data without its CRLF, Host, Content-Length,
// Transfer-Encoding, Trailer, Authorization or TE in a trailer), 414 for a
// request line over LimitRequestLine, 431 over the header limits, 417 for
// an unknown Expect, 501 for an unknown transfer coding; then it closes
// the connection. An HTTP/1.1 request without Host is served, as Gunicorn
// does (net/http alone answers 400), and so is one with other codings
// before a final chunked (`gzip, chunked`; net/http alone answers 501):
// its body de-chunked and still coded, the codings in r.TransferEncoding
// (outermost first: chunked, gzip), the connection closed after it. HTTP/2
// (TLS and h2c), uwsgi and FastCGI requests are held to the same rules (one
// headCheck) once their own parser read them: method, target, limits, names
// and values, the scheme headers' agreement, framing fields (line ends and
// folding do not exist in their framing). A refusal is logged as a warning
// with its reason, written to the access log (the refused request line,
// status and bytes) and counted in http.server.request.duration under
// http_route "_refused" with its status code: a sentinel like "_OTHER",
// so refusals show beside the served requests without a second metric.
package serving
