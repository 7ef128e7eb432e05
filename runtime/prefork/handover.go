package prefork

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
)

// envConfigFD names the pipe a worker reads its master's configuration from
// (internal/master writes it).
const envConfigFD = master.EnvConfigFD

// handOver is what the master writes on a worker's configuration pipe
// (master.HandOver): the worker's side decodes it.
type handOver master.HandOver

// overlay replaces cfg's settings with the master's (already defaulted and
// checked), keeping cfg's hooks (funcs, the logger), which do not travel.
func (h handOver) overlay(cfg *Config) error {
	c := *cfg
	c.Values = Values{}
	if err := json.Unmarshal(h.Config, &c.Values); err != nil {
		return fmt.Errorf("prefork: the master's configuration: %w", err)
	}
	*cfg = c
	return nil
}

// fromMaster is this worker's hand-over, read from its pipe once: by
// Inherited (the program's entry) or by Run, whichever comes first.
var fromMaster = new(handedConfig)

type handedConfig struct {
	once   sync.Once
	h      handOver
	worker bool
	err    error
}

func handedOver() (handOver, bool, error) {
	m := fromMaster
	m.once.Do(func() {
		if m.worker = isWorker(); m.worker {
			m.h, m.err = readHandOver()
		}
	})
	return m.h, m.worker, m.err
}

// readHandOver reads the configuration pipe to its end and closes it.
func readHandOver() (handOver, error) {
	var h handOver
	v, ok := os.LookupEnv(envConfigFD)
	if !ok {
		return h, fmt.Errorf("prefork: %s is not set: this worker was started by a master of another version; upgrade with USR2 or a restart", envConfigFD)
	}
	fd, err := strconv.Atoi(v)
	if err != nil {
		return h, fmt.Errorf("prefork: worker environment %s=%q: must be a number", envConfigFD, v)
	}
	f := os.NewFile(uintptr(fd), "prefork-config")
	if f == nil {
		return h, errors.New("prefork: worker config pipe is not open")
	}
	defer f.Close()
	if err := json.NewDecoder(f).Decode(&h); err != nil {
		return h, fmt.Errorf("prefork: the master's configuration (%s): %w", envConfigFD, err)
	}
	return h, nil
}

// Inherited returns, in a worker, the configuration its master handed it
// (every setting and ProgramConfig, as the master loaded them; no funcs or
// hooks) and true; outside a worker it returns false. The master is the only
// reader of a program's configuration: a worker's entry takes it from here
// instead of reading files, so an edit takes effect on HUP, USR2 or a
// restart, never when a worker happens to be replaced.
func Inherited() (Config, bool, error) {
	h, worker, err := handedOver()
	if !worker || err != nil {
		return Config{}, worker, err
	}
	var c Config
	if err := h.overlay(&c); err != nil {
		return Config{}, true, err
	}
	return c, true, nil
}
