package main

import (
	"fmt"
	"image/color"
	"os"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// familyColor gives each server family one colour across the panels.
var familyColor = map[string]color.RGBA{
	"runtime":  {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"net/http": {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"gunicorn": {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"uwsgi":    {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
}

var routeColor = map[string]color.RGBA{
	"hello": {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"json":  {R: 0xaa, G: 0xc8, B: 0xe8, A: 0xff},
}

// WriteChart draws results.png: throughput per server and route, then 2xx
// throughput over time through HUP every 0.5 s and through worker kills.
func WriteChart(r *Results, path string) error {
	var panels []*plot.Plot
	if len(r.Throughput) > 0 {
		p, err := throughputPlot(r)
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	for _, sc := range []string{"hup", "kill"} {
		if p := faultPlot(r, sc); p != nil {
			panels = append(panels, p)
		}
	}
	if len(panels) == 0 {
		p := plot.New()
		p.Title.Text = "no results"
		panels = append(panels, p)
	}
	w := vg.Length(len(panels)) * 6 * vg.Inch
	img := vgimg.New(w, 5*vg.Inch)
	dc := draw.New(img)
	// White background: transparent PNGs read badly on a dark README.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	f, err := os.CreateTemp(dirOf(path), ".chart-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func throughputPlot(r *Results) (*plot.Plot, error) {
	var names []string
	seen := map[string]bool{}
	for _, t := range r.Throughput {
		if !seen[t.Server] {
			seen[t.Server] = true
			names = append(names, t.Server)
		}
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Throughput (%s -c%d, loopback)", r.Load.Generator, r.Load.Conns)
	p.Y.Label.Text = "requests/s"
	p.Y.Min = 0
	width := vg.Points(10)
	routes := []string{"hello", "json"}
	for i, route := range routes {
		vals := make(plotter.Values, len(names))
		for j, n := range names {
			vals[j] = r.throughputOf(n, route)
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, err
		}
		bars.LineStyle.Width = 0
		bars.Color = routeColor[route]
		bars.Offset = vg.Length(float64(i)-float64(len(routes)-1)/2) * width
		p.Add(bars)
		p.Legend.Add(route, bars)
	}
	p.Legend.Top = true
	p.Y.Max = maxThroughput(r) * 1.15
	p.NominalX(names...)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YCenter
	return p, nil
}

func faultPlot(r *Results, scenario string) *plot.Plot {
	var rows []FaultRow
	for _, f := range r.Faults {
		if f.Scenario == scenario && len(f.Series) > 0 {
			rows = append(rows, f)
		}
	}
	if len(rows) == 0 {
		return nil
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s from %g s to %g s", scenarioTitle[scenario], rows[0].FaultStart, rows[0].FaultEnd)
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = "2xx per 100 ms, % of steady throughput"
	p.Y.Min = 0
	for _, f := range rows {
		pts := make(plotter.XYs, len(f.Series))
		for i, v := range f.Series {
			pts[i].X = float64(i*f.BucketMS)/1000 + float64(f.BucketMS)/2000
			pts[i].Y = pct(v, f.SteadyRPS)
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		line.Color = familyColor[f.Family]
		line.Width = vg.Points(1.5)
		p.Add(line)
		p.Legend.Add(fmt.Sprintf("%s (%d failed)", f.Server, f.Failed), line)
	}
	// Shade the fault phase's edges with two dashed verticals.
	for _, x := range []float64{rows[0].FaultStart, rows[0].FaultEnd} {
		edge, err := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: maxPct(rows)}})
		if err == nil {
			edge.Color = color.Gray{Y: 0x99}
			edge.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
			p.Add(edge)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Y.Max = maxPct(rows) * 1.3 // headroom so the legend does not cover the lines
	return p
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
