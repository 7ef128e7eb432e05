package prefork_test

import (
	"fmt"

	"github.com/scaffoldgo/scaffold/runtime/prefork"
)

// A program outside the runtime writes a Config literal: its settings (plain data, what
// the master hands each worker) and its hooks (funcs, each process's own).
func ExampleConfig() {
	exited := false
	cfg := prefork.Config{
		Values: prefork.Values{Workers: 4, MaxRequests: 1000},
		Hooks:  prefork.Hooks{OnExit: func() { exited = true }},
	}
	cfg.Timeout = -1 // or one field at a time
	cfg.OnExit()
	fmt.Println(cfg.Workers, cfg.MaxRequests, cfg.Timeout, exited)
	// Output: 4 1000 -1ns true
}
