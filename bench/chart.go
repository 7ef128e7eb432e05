package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// The chart is drawn by bench/chart, a module of its own, so that its plotting library
// stays out of scaffold's go.mod: this file works out every panel, value and colour of
// results.png as a chart spec (the types below mirror bench/chart's) and hands it over.

type chartSpec struct {
	Panels []chartPanel `json:"panels"`
}

type chartPanel struct {
	Title      string      `json:"title"`
	XLabel     string      `json:"x_label,omitempty"`
	YLabel     string      `json:"y_label,omitempty"`
	YMax       float64     `json:"y_max,omitempty"`
	Categories []string    `json:"categories,omitempty"`
	Bars       []chartBars `json:"bars,omitempty"`
	Lines      []chartLine `json:"lines,omitempty"`
	LegendLeft bool        `json:"legend_left,omitempty"`
}

type chartBars struct {
	Label  string    `json:"label"`
	Color  rgb       `json:"color"`
	Values []float64 `json:"values"`
}

type chartLine struct {
	Label  string       `json:"label,omitempty"`
	Color  rgb          `json:"color"`
	Width  float64      `json:"width"`
	Dashed bool         `json:"dashed,omitempty"`
	Points [][2]float64 `json:"points"`
}

type rgb [3]uint8

// familyColor gives each server family one colour across the panels.
var familyColor = map[string]rgb{
	"runtime":  {0x1f, 0x77, 0xb4},
	"net/http": {0x2c, 0xa0, 0x2c},
	"gunicorn": {0xd6, 0x27, 0x28},
	"uwsgi":    {0xff, 0x7f, 0x0e},
}

var routeColor = map[string]rgb{
	"hello": {0x1f, 0x77, 0xb4},
	"json":  {0xaa, 0xc8, 0xe8},
}

// WriteChart draws results.png: throughput per server and route, then 2xx
// throughput over time through HUP every 0.5 s and through worker kills.
func WriteChart(r *Results, path string) error {
	spec, err := json.Marshal(chartOf(r))
	if err != nil {
		return err
	}
	out, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	dir, err := chartDir()
	if err != nil {
		return err
	}
	cmd := exec.Command("go", "-C", dir, "run", ".", out)
	cmd.Stdin = bytes.NewReader(spec)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go -C %s run . %s: %v\n%s", dir, out, err, msg)
	}
	return nil
}

// chartDir is bench/chart in the scaffold checkout bench runs from.
func chartDir() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "bench", "chart")
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		return "", fmt.Errorf("the chart module: %w", err)
	}
	return dir, nil
}

// chartOf lays out the panels: throughput, then each fault scenario that has a series.
func chartOf(r *Results) chartSpec {
	var spec chartSpec
	if len(r.Throughput) > 0 {
		spec.Panels = append(spec.Panels, throughputPanel(r))
	}
	for _, sc := range []string{"hup", "kill"} {
		if p, ok := faultPanel(r, sc); ok {
			spec.Panels = append(spec.Panels, p)
		}
	}
	return spec
}

func throughputPanel(r *Results) chartPanel {
	p := chartPanel{
		Title:  fmt.Sprintf("Throughput (%s -c%d, loopback)", r.Load.Generator, r.Load.Conns),
		YLabel: "requests/s",
		YMax:   maxThroughput(r) * 1.15,
	}
	seen := map[string]bool{}
	for _, t := range r.Throughput {
		if !seen[t.Server] {
			seen[t.Server] = true
			p.Categories = append(p.Categories, t.Server)
		}
	}
	for _, route := range []string{"hello", "json"} {
		b := chartBars{Label: route, Color: routeColor[route]}
		for _, n := range p.Categories {
			b.Values = append(b.Values, r.throughputOf(n, route))
		}
		p.Bars = append(p.Bars, b)
	}
	return p
}

func faultPanel(r *Results, scenario string) (chartPanel, bool) {
	var rows []FaultRow
	for _, f := range r.Faults {
		if f.Scenario == scenario && len(f.Series) > 0 {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return chartPanel{}, false
	}
	top := maxPct(rows)
	p := chartPanel{
		Title:      fmt.Sprintf("%s from %g s to %g s", scenarioTitle[scenario], rows[0].FaultStart, rows[0].FaultEnd),
		XLabel:     "seconds",
		YLabel:     "2xx per 100 ms, % of steady throughput",
		YMax:       top * 1.3, // headroom so the legend does not cover the lines
		LegendLeft: true,
	}
	for _, f := range rows {
		l := chartLine{Label: fmt.Sprintf("%s (%d failed)", f.Server, f.Failed), Color: familyColor[f.Family], Width: 1.5}
		for i, v := range f.Series {
			l.Points = append(l.Points, [2]float64{float64(i*f.BucketMS)/1000 + float64(f.BucketMS)/2000, pct(v, f.SteadyRPS)})
		}
		p.Lines = append(p.Lines, l)
	}
	// The fault phase's edges as two dashed verticals.
	for _, x := range []float64{rows[0].FaultStart, rows[0].FaultEnd} {
		p.Lines = append(p.Lines, chartLine{Color: rgb{0x99, 0x99, 0x99}, Width: 1, Dashed: true, Points: [][2]float64{{x, 0}, {x, top}}})
	}
	return p, true
}

func maxPct(rows []FaultRow) float64 {
	m := 100.0
	for _, f := range rows {
		for _, v := range f.Series {
			m = max(m, pct(v, f.SteadyRPS))
		}
	}
	return m
}

func maxThroughput(r *Results) float64 {
	m := 1.0
	for _, t := range r.Throughput {
		m = max(m, t.RPS)
	}
	return m
}
