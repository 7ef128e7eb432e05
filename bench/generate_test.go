package main

import (
	"testing"

	"github.com/scaffoldgo/scaffold/generators/project"
)

// BenchmarkGenerate renders a whole project as `scaffold new` does (templates,
// gofmt, vendored runtime, manifest), without writing it.
func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ctx, err := project.Generate(project.Options{Name: "benchapp"})
		if err != nil {
			b.Fatal(err)
		}
		if ctx.Files.Len() == 0 {
			b.Fatal("no files generated")
		}
	}
}
