//go:build unix

package prefork

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
)

// prodTestRoutes adds the routes the production process tests need to the
// helper app (helper_test.go).
func prodTestRoutes(mux *http.ServeMux) {
	if f := os.Getenv("PREFORK_TEST_HANG_FILE"); f != "" {
		if _, err := os.Stat(f); err == nil {
			time.Sleep(5 * time.Second) // a boot that hangs (bounded, so orphans end too)
		}
	}
	var hold [][]byte
	var mu sync.Mutex
	mux.HandleFunc("/prod/alloc", func(w http.ResponseWriter, r *http.Request) {
		mb, _ := strconv.Atoi(r.URL.Query().Get("mb"))
		b := bytes.Repeat([]byte{1}, mb<<20) // written, so resident; one bulk copy even under -race
		mu.Lock()
		hold = append(hold, b)
		mu.Unlock()
		fmt.Fprint(w, os.Getpid())
	})
	mux.HandleFunc("GET /prod/traced/{id}", func(w http.ResponseWriter, r *http.Request) {
		SetTraceID(r.Context(), r.Header.Get("X-Test-Trace")) // as the app's tracing middleware does
		fmt.Fprint(w, r.PathValue("id"))
	})
	mux.HandleFunc("/prod/rid", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, serving.RequestID(r.Context())) // what the app's log records would carry
	})
	mux.HandleFunc("/prod/whoami", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s %s %d", r.RemoteAddr, serving.RequestScheme(r), r.Host, os.Getuid())
	})
}
