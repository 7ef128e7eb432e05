package project

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// The generated alerting rules are valid for the real Prometheus (promtool
// check rules), and their own unit tests pass (promtool test rules): each SLO
// alert fires on a series burning its budget at its rate and stays silent on a
// healthy one and on a short blip, by the OpenTelemetry HTTP names.
func TestGeneratedAlertsPassPromtool(t *testing.T) {
	promtool := testenv.Tool(t, "promtool", "apt-get install prometheus")
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := generateInto(t, tc.opts)
			rules, err := os.ReadFile(filepath.Join(dir, "monitoring", "alerts.yml"))
			if err != nil {
				t.Fatal(err)
			}
			// The request metrics are the semantic conventions', the process ones server_*: no prefork_* name is left.
			for _, name := range []string{"http_server_request_duration_seconds_count", "http_server_request_duration_seconds_bucket"} {
				if !strings.Contains(string(rules), name) {
					t.Errorf("alerts.yml does not use %s", name)
				}
			}
			if strings.Contains(string(rules), "prefork_") {
				t.Errorf("alerts.yml still reads a prefork_* metric")
			}
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
