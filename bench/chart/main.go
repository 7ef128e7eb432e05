// Command chart draws bench's results.png from a chart spec (JSON on stdin): panels side
// by side, each of bars over categories or of lines over x. It is the one part of bench
// that needs a plotting library, so it is a module of its own and gonum's plot stays out
// of scaffold's go.mod; bench (../) works out every number and colour and runs
//
//	go -C bench/chart run . OUT.png < spec.json
package main

import (
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// Spec is the whole chart: its panels, left to right. bench/chart.go writes it.
type Spec struct {
	Panels []Panel `json:"panels"`
}

// Panel is one plot.
type Panel struct {
	Title      string   `json:"title"`
	XLabel     string   `json:"x_label,omitempty"`
	YLabel     string   `json:"y_label,omitempty"`
	YMax       float64  `json:"y_max,omitempty"` // 0: from the data
	Categories []string `json:"categories,omitempty"`
	Bars       []Bars   `json:"bars,omitempty"`
	Lines      []Line   `json:"lines,omitempty"`
	LegendLeft bool     `json:"legend_left,omitempty"`
}

// Bars are one series of bars, a value per category, drawn beside the panel's other series.
type Bars struct {
	Label  string    `json:"label"`
	Color  RGB       `json:"color"`
	Values []float64 `json:"values"`
}

// Line is one series of points; an unlabelled line stays out of the legend.
type Line struct {
	Label  string       `json:"label,omitempty"`
	Color  RGB          `json:"color"`
	Width  float64      `json:"width"` // points
	Dashed bool         `json:"dashed,omitempty"`
	Points [][2]float64 `json:"points"`
}

// RGB is a colour as [r, g, b].
type RGB [3]uint8

func (c RGB) rgba() color.RGBA { return color.RGBA{R: c[0], G: c[1], B: c[2], A: 0xff} }

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: chart OUT.png < spec.json")
		os.Exit(2)
	}
	if err := run(os.Stdin, os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out string) error {
	var spec Spec
	dec := json.NewDecoder(in)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		return fmt.Errorf("reading the spec: %w", err)
	}
	return Write(spec, out)
}

// Write draws spec into the PNG file path, replacing it only once it is complete.
func Write(spec Spec, path string) error {
	var panels []*plot.Plot
	for _, s := range spec.Panels {
		p, err := panel(s)
		if err != nil {
			return fmt.Errorf("panel %q: %w", s.Title, err)
		}
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		p := plot.New()
		p.Title.Text = "no results"
		panels = append(panels, p)
	}
	img := vgimg.New(vg.Length(len(panels))*6*vg.Inch, 5*vg.Inch)
	dc := draw.New(img)
	// White background: transparent PNGs read badly on a dark README.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Inch / 3, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8, PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{panels}, tiles, dc)
	for i, p := range panels {
		p.Draw(canvases[0][i])
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".chart-*")
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

func panel(s Panel) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = s.Title
	p.X.Label.Text = s.XLabel
	p.Y.Label.Text = s.YLabel
	p.Y.Min = 0
	width := vg.Points(10)
	for i, b := range s.Bars {
		if len(b.Values) != len(s.Categories) {
			return nil, fmt.Errorf("bars %q: %d values for %d categories", b.Label, len(b.Values), len(s.Categories))
		}
		bars, err := plotter.NewBarChart(plotter.Values(b.Values), width)
		if err != nil {
			return nil, err
		}
		bars.LineStyle.Width = 0
		bars.Color = b.Color.rgba()
		bars.Offset = vg.Length(float64(i)-float64(len(s.Bars)-1)/2) * width
		p.Add(bars)
		p.Legend.Add(b.Label, bars)
	}
	if len(s.Categories) > 0 {
		p.NominalX(s.Categories...)
		p.X.Tick.Label.Rotation = 0.6
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	for _, l := range s.Lines {
		pts := make(plotter.XYs, len(l.Points))
		for i, xy := range l.Points {
			pts[i].X, pts[i].Y = xy[0], xy[1]
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", l.Label, err)
		}
		line.Color = l.Color.rgba()
		line.Width = vg.Points(l.Width)
		if l.Dashed {
			line.Dashes = []vg.Length{vg.Points(3), vg.Points(3)}
		}
		p.Add(line)
		if l.Label != "" {
			p.Legend.Add(l.Label, line)
		}
	}
	p.Legend.Top = true
	p.Legend.Left = s.LegendLeft
	if s.YMax > 0 {
		p.Y.Max = s.YMax
	}
	return p, nil
}
