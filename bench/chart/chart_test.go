package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	spec := `{"panels": [
	  {"title": "Throughput", "y_label": "requests/s", "y_max": 120, "categories": ["a", "b"],
	   "bars": [{"label": "hello", "color": [31, 119, 180], "values": [100, 50]}, {"label": "json", "color": [170, 200, 232], "values": [90, 40]}]},
	  {"title": "HUP", "x_label": "seconds", "legend_left": true,
	   "lines": [{"label": "runtime (0 failed)", "color": [31, 119, 180], "width": 1.5, "points": [[0, 100], [1, 98], [2, 101]]},
	             {"color": [153, 153, 153], "width": 1, "dashed": true, "points": [[1, 0], [1, 110]]}]}]}`
	path := filepath.Join(t.TempDir(), "results.png")
	if err := run(strings.NewReader(spec), path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 2*b.Dy() || b.Dy() < 300 {
		t.Errorf("chart is %dx%d, want two readable panels side by side", b.Dx(), b.Dy())
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("chart left temporary files: %v", ents)
	}
}

// A spec bench did not mean is refused with the reason; nothing is written.
func TestRunRefuses(t *testing.T) {
	for spec, want := range map[string]string{
		`{"panels": [{"title": "t", "categories": ["a"], "bars": [{"label": "x", "values": [1, 2]}]}]}`: `bars "x": 2 values for 1 categories`,
		`{"panels": [{"titel": "t"}]}`: `unknown field "titel"`,
	} {
		path := filepath.Join(t.TempDir(), "results.png")
		if err := run(strings.NewReader(spec), path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("a refused spec wrote %s", path)
		}
	}
}
