package prefork

import (
	"net"
	"net/http"
)

// servingProc is a process that serves the app: Serve's single process or
// a worker. Both are built by newServingProc, the same way.
type servingProc struct {
	srv  *httpServer
	prod *serving
}

// newServingProc builds the app and the server around it on lns: PROXY
// protocol then TLS on the listeners, forwarded headers and the access log
// outside cfg.Middleware, both reopened with the log. appFailed tells the
// App factory's own error (returned as is) from the setup's. On error
// nothing stays open, the listeners included.
func newServingProc(cfg Config, app App, lns []net.Listener, names []string, lg *logging) (sp *servingProc, appFailed bool, err error) {
	prod, setupErr := newServing(cfg)
	if setupErr == nil {
		lns = prod.listeners(lns)
	}
	h, err := buildApp(app) // the app's error comes first: it says most
	if appFailed = err != nil; !appFailed {
		err = setupErr
	}
	if err != nil {
		for _, ln := range lns {
			ln.Close()
		}
		if setupErr == nil {
			prod.close()
		}
		return nil, appFailed, err
	}
	lg.also = append(lg.also, prod.reopen)
	cfg.Middleware = append([]func(http.Handler) http.Handler{prod.handler}, cfg.Middleware...) // outside the user's middleware
	return &servingProc{srv: newHTTPServer(cfg, h, lns, names, lg), prod: prod}, false, nil
}

func (sp *servingProc) close() { sp.prod.close() }
