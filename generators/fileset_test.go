package generators

import (
	"errors"
	"strings"
	"testing"
)

func sampleSet() *FileSet {
	s := NewFileSet()
	s.Add("go.mod", []byte("module demo\n"), 0)
	s.Add("config/config.yaml", []byte("app: {}\n"), 0)
	s.Add("web/static/css/style.css", []byte("body{}\n"), 0)
	s.Add("bin/run.sh", []byte("#!/bin/sh\n"), 0o755)
	return s
}

func TestRunStopsAtFirstErrorAndSkips(t *testing.T) {
	var ran []string
	step := func(name string, err error) Step[*[]string] {
		return StepFunc[*[]string]{Name: name, Fn: func(r *[]string) error { *r = append(*r, name); return err }}
	}
	err := Run(&ran, []Step[*[]string]{step("a", nil), step("b", ErrSkip), step("c", errors.New("boom")), step("d", nil)})
	// The message is the step's own (no internal step name for the user); the step is kept.
	var stepErr *StepError
	if !errors.As(err, &stepErr) || err.Error() != "boom" || stepErr.Step != "c" {
		t.Fatalf("err = %#v, want boom from step c", err)
	}
	if strings.Join(ran, "") != "abc" {
		t.Fatalf("ran %v", ran)
	}
}

func TestRenderTreeMissingKeyFails(t *testing.T) {
	tmpl := NewTemplate("x")
	if _, err := tmpl.Parse("{{.Nope}}"); err != nil {
		t.Fatal(err)
	}
	if err := tmpl.Execute(&strings.Builder{}, map[string]string{}); err == nil {
		t.Fatal("missing key rendered without error")
	}
}
