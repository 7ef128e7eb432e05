package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/scaffoldgo/scaffold/bench/devloop"
)

// measureDevLoop compares `scaffold run --dev` with plain go build and air,
// through bench/devloop (owned by the dev runner's author).
func measureDevLoop(ctx context.Context, o *Options, res *Results, _ *serverSet) error {
	edits := 5
	if o.Quick {
		edits = 1
	}
	out, err := devloop.Run(ctx, devloop.Options{Edits: edits, Log: prefixWriter{"devloop"}})
	if err != nil {
		return err
	}
	row := func(m devloop.Measure, requests bool) DevLoopRow {
		d := DevLoopRow{Tool: m.Tool, Edits: len(m.Latencies), MeanMS: ms(m.Mean), MedianMS: ms(m.Median), MinMS: ms(m.Min), MaxMS: ms(m.Max),
			Requests: -1, OverheadMS: ms(m.Overhead)}
		if requests {
			d.Requests, d.Failed = m.Requests, m.Failed
		}
		return d
	}
	res.DevLoop = append(res.DevLoop, row(out.Scaffold, true), row(out.GoBuild, false))
	if out.Air != nil {
		res.DevLoop = append(res.DevLoop, row(*out.Air, true))
	} else {
		res.DevLoop = append(res.DevLoop, DevLoopRow{Tool: "air " + devloop.AirVersion, Note: out.AirNote})
	}
	res.Commands = append(res.Commands, fmt.Sprintf("devloop.Run(ctx, devloop.Options{Edits: %d})   # bench/devloop: scaffold run --dev, go build, air %s", edits, devloop.AirVersion))
	for _, d := range res.DevLoop {
		logf("%-28s save to new response median %.0f ms (min %.0f, max %.0f), failed %d of %d requests %s", d.Tool, d.MedianMS, d.MinMS, d.MaxMS, d.Failed, max(d.Requests, 0), d.Note)
	}
	return nil
}

// prefixWriter passes a library's progress lines to stderr under bench's prefix.
type prefixWriter struct{ name string }

func (w prefixWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			logf("%s", strings.TrimPrefix(line, w.name+": "))
		}
	}
	return len(p), nil
}
