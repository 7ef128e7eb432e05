package testenv

import (
	"bytes"
	"os/exec"
	"regexp"
	"testing"
)

// PromtoolCheck lints a Prometheus text exposition with `promtool check metrics` (found
// by OptionalTool), failing t with what promtool said; name says which exposition.
func PromtoolCheck(t testing.TB, promtool, name string, exposition []byte) {
	t.Helper()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics (%s): %v\n%s\nexposition:\n%s", name, err, out, exposition)
	}
}

// StatsDLine matches one StatsD metric line as the runtime sends it (DogStatsD tags
// included): name:value|type[|@rate][|#tags].
var StatsDLine = regexp.MustCompile(`^[A-Za-z0-9_.]+:-?[0-9.]+\|(c|g|ms|h)(\|@[0-9.]+)?(\|#[^|# ]+)?$`)
