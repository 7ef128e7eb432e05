package master

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/serving"
	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/settings"
)

// EnvConfigFD names the pipe a worker reads its master's configuration from
// (fd 5+N). A pipe, not a file or a variable: the configuration holds
// secrets (ProgramConfig), and a variable is size-limited and readable in
// /proc/PID/environ.
const EnvConfigFD = "PREFORK_CONFIG_FD"

// HandOver is what the master writes on a worker's configuration pipe
// before closing its end; the worker (the public package) decodes it.
type HandOver struct {
	// Config is the master's settings (Config.Values) as JSON, ProgramConfig
	// included; hooks (funcs, the logger) stay the worker's own.
	Config json.RawMessage `json:"config"`
}

// EncodeHandOver is v as the master hands it to each worker it starts.
func EncodeHandOver(v settings.Values) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("prefork: encode worker config: %w", err)
	}
	return json.Marshal(HandOver{Config: js})
}

// InheritEnv returns os.Environ() without any variables of the listener
// hand-over (PREFORK_LISTEN_*, the worker's PREFORK_* variables, systemd's
// LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES) and with PREFORK_LISTEN_FDS and
// PREFORK_LISTEN_NAMES describing files, which must be the first entries of
// the child's exec.Cmd.ExtraFiles (fds 3, 4, ...).
func InheritEnv(files []*os.File, names []string) []string {
	env := CleanEnv(os.Environ())
	ns := make([]string, len(files))
	for i := range files {
		if i < len(names) {
			ns[i] = names[i]
		} else {
			ns[i] = files[i].Name()
		}
	}
	return append(env,
		serving.EnvListenFDs+"="+strconv.Itoa(len(files)),
		serving.EnvListenNames+"="+serving.ListenNames(ns))
}
