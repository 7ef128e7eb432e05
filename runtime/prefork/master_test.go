package prefork

import (
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/runtime/prefork/internal/master"
)

// cleanEnv drops the variables that describe descriptors of this process, for the
// process tests' helpers (master.CleanEnv).
func cleanEnv(env []string) []string { return master.CleanEnv(env) }

// The master's Reload is the program's, defaulted and checked, keeping the hooks the
// reloaded Config leaves unset: what the master's loop used to do itself.
func TestMasterConfigWrapsReload(t *testing.T) {
	var called []string
	next := Config{Values: Values{Workers: 2}}
	old, err := Config{Values: Values{Workers: 1, Umask: "0027"}, Hooks: Hooks{
		OnReload: func() { called = append(called, "old on_reload") },
		OnExit:   func() { called = append(called, "old on_exit") },
		Reload:   func() (Config, error) { return next, nil },
	}}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	mc := masterConfig(old)
	if mc.Workers != 1 || !mc.Modes.UmaskSet || mc.Modes.Umask != 0o027 || mc.OnReload == nil || mc.PreFork != nil {
		t.Fatalf("master config: workers %d, modes %+v, on_reload set %v, pre_fork set %v", mc.Workers, mc.Modes, mc.OnReload != nil, mc.PreFork != nil)
	}

	next.OnExit = func() { called = append(called, "new on_exit") }
	nc, err := mc.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if nc.Workers != 2 || nc.Timeout != DefaultTimeout || nc.Modes.UmaskSet {
		t.Errorf("reloaded: workers %d, timeout %s, umask set %v; want 2, the default %s, unset", nc.Workers, nc.Timeout, nc.Modes.UmaskSet, DefaultTimeout)
	}
	nc.OnReload()
	nc.OnExit()
	if got := strings.Join(called, ", "); got != "old on_reload, new on_exit" {
		t.Errorf("hooks run after the reload: %s; want the kept on_reload and the new on_exit", got)
	}
	if nc.Reload == nil {
		t.Fatal("a reload that leaves Reload unset must keep the program's")
	}

	next = Config{Values: Values{Timeout: time.Second, LogFormat: "yaml"}}
	if _, err := nc.Reload(); err == nil || !strings.Contains(err.Error(), "log-format=yaml") {
		t.Errorf("a reloaded configuration that does not check: err %v, want the rule", err)
	}
}
