package project

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// The generated alerting rules are valid for the real Prometheus (promtool
// check rules), and their own unit tests pass (promtool test rules): the
// alerts fire on the series the runtime exposes, by the names it uses.
func TestGeneratedAlertsPassPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "apt-get install prometheus")
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := generateInto(t, tc.opts)
			for _, args := range [][]string{
				{"check", "rules", filepath.Join(dir, "monitoring", "alerts.yml")},
				{"test", "rules", filepath.Join(dir, "monitoring", "alerts_test.yml")},
			} {
				out, err := exec.Command(promtool, args...).CombinedOutput()
				if err != nil || !strings.Contains(string(out), "SUCCESS") {
					t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
		})
	}
}
