package devloop

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/scaffoldgo/scaffold/internal/testenv"
)

// TestRun measures one edit per tool; air is skipped with a message when it is missing
// (a failure with SCAFFOLD_REQUIRE_TOOLS=1).
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a generated project several times")
	}
	o := Options{Edits: 1, EditTimeout: 90 * time.Second}
	o.AirPath = testenv.OptionalTool(t, "air", "measuring scaffold and go build only", AirInstall)
	o.SkipAir = o.AirPath == ""
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", res.Markdown())
	if len(res.Scaffold.Latencies) != 1 || res.Scaffold.Mean <= 0 || len(res.GoBuild.Latencies) != 1 {
		t.Errorf("missing figures: %+v", res)
	}
	if res.Scaffold.Failed != 0 || res.Scaffold.Requests == 0 {
		t.Errorf("scaffold: %d requests, %d failed (%v); want some and none failed", res.Scaffold.Requests, res.Scaffold.Failed, res.Scaffold.Errors)
	}
	if !o.SkipAir && (res.Air == nil || len(res.Air.Latencies) != 1) {
		t.Errorf("air not measured: %+v (%s)", res.Air, res.AirNote)
	}
	md := res.Markdown()
	for _, want := range []string{"| scaffold run --dev |", "| go build |", "| air " + AirVersion} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestMarkdownWithoutAir(t *testing.T) {
	r := Result{Edits: 2, AirNote: "not installed: " + AirInstall,
		Scaffold: Measure{Tool: "scaffold run --dev", Mean: 900 * time.Millisecond},
		GoBuild:  Measure{Tool: "go build", Mean: 800 * time.Millisecond}}
	md := r.Markdown()
	if !strings.Contains(md, AirInstall) || !strings.Contains(md, "100 ms over the separate go build mean") {
		t.Errorf("Markdown:\n%s", md)
	}
}
