package export

import (
	"fmt"
	"image/color"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/landscape/surface"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file lays out a figure: the title on top, the caption from the
// provenance at the bottom, a legend row above it and the body in the
// rest.

// layout places the parts of a figure: the title on top, the caption at
// the bottom, the legend row above it and the body in the rest.
type layout struct {
	title   string
	caption []string
	legend  []legendItem
	body    func(c draw.Canvas)
}

func (l layout) draw(c draw.Canvas) {
	c.SetColor(whiteColor)
	c.Fill(c.Rectangle.Path())
	const pad = 6
	c = draw.Crop(c, pad, -pad, pad, -pad)
	if l.title != "" {
		ts := textStyle(boldFont(c), titleSize)
		ts.YAlign = draw.YTop
		c.FillText(ts, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Max.Y}, fitText(ts, txt(c, l.title), c.Max.X-c.Min.X))
		c.Max.Y -= ts.Height(l.title) + 6
	}
	if len(l.caption) > 0 {
		cs := textStyle(sans, captionSize)
		cs.Color = captionColor
		cs.YAlign = draw.YBottom
		h := cs.Height("Ag")
		for i := len(l.caption) - 1; i >= 0; i-- {
			c.FillText(cs, vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: c.Min.Y}, fitText(cs, txt(c, l.caption[i]), c.Max.X-c.Min.X))
			c.Min.Y += h + 1.5
		}
		c.Min.Y += 3
	}
	if len(l.legend) > 0 {
		c.Min.Y += drawLegendRow(c, l.legend) + 4
	}
	l.body(c)
}

var (
	whiteColor   = color.NRGBA{R: 0xff, G: 0xff, B: 0xff, A: 0xff}
	captionColor = color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
)

// fitText returns txt, shortened with an ellipsis if it is wider than w.
func fitText(sty draw.TextStyle, txt string, w vg.Length) string {
	if sty.Width(txt) <= w {
		return txt
	}
	r := []rune(txt)
	for len(r) > 1 && sty.Width(string(r)+"…") > w {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// legendItem is an entry of a figure's legend row: a line or a filled box
// in a colour, and a text.
type legendItem struct {
	text string
	line *draw.LineStyle // nil for a filled box
	fill color.Color
}

// drawLegendRow draws the legend entries side by side, centred at the
// bottom of c, in as many rows as they need, and returns the height used.
func drawLegendRow(c draw.Canvas, items []legendItem) vg.Length {
	ts := textStyle(sans, legendSize)
	ts.XAlign, ts.YAlign = draw.XLeft, draw.YCenter
	const swatch, gap, sep = 16, 4, 14
	h := ts.Height("Ag")
	width := func(it legendItem) vg.Length { return swatch + gap + ts.Width(txt(c, it.text)) }
	// Break the entries into rows no wider than the canvas.
	var rows [][]legendItem
	var w vg.Length
	for _, it := range items {
		if len(rows) == 0 || w+sep+width(it) > c.Max.X-c.Min.X {
			rows = append(rows, nil)
			w = -sep
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], it)
		w += sep + width(it)
	}
	for i, row := range rows {
		var total vg.Length
		for j, it := range row {
			if j > 0 {
				total += sep
			}
			total += width(it)
		}
		x := (c.Min.X+c.Max.X)/2 - total/2
		y := c.Min.Y + vg.Length(len(rows)-1-i)*(h+3) + h/2 + 1
		for _, it := range row {
			if it.line != nil {
				c.StrokeLine2(*it.line, x, y, x+swatch, y)
			} else {
				r := rectPath(vg.Rectangle{Min: vg.Point{X: x, Y: y - h/2 + 1}, Max: vg.Point{X: x + swatch, Y: y + h/2 - 1}})
				c.SetColor(it.fill)
				c.Fill(r)
				c.SetLineStyle(draw.LineStyle{Color: captionColor, Width: 0.5})
				c.Stroke(r)
			}
			c.FillText(ts, vg.Point{X: x + swatch + gap, Y: y}, txt(c, it.text))
			x += width(it) + sep
		}
	}
	return vg.Length(len(rows))*(h+3) - 1
}

// missingItem is the legend entry for the grey of NaN and infinite values.
func missingItem(n int, kind PlotKind) legendItem {
	txt := fmt.Sprintf("NaN, ±Inf or missing (%d points)", n)
	switch kind {
	case ContourPlot, FilledContourPlot:
		txt = fmt.Sprintf("cells touching NaN, ±Inf or missing values (%d points)", n)
	case SurfacePlot:
		txt = fmt.Sprintf("NaN, ±Inf or missing: cells drawn on the floor (%d points)", n)
	}
	return legendItem{text: txt, fill: missingColor}
}

// This file lays out a figure: the title on top, the caption from the
// provenance at the bottom, a legend row above it and the body in the
// rest.

// nonFinite counts the points of f that are NaN or infinite.
func nonFinite(f *surface.Field) int {
	n := 0
	for _, row := range f.Z {
		for _, v := range row {
			if !finite(v) {
				n++
			}
		}
	}
	return n
}

// titleOf returns a figure's title: the model and data, the metric and
// what the figure shows.
func titleOf(p *surface.Provenance, metric, what string) string {
	var parts []string
	if p.Model.Name != "" {
		parts = append(parts, p.Model.Name)
	}
	if p.Data.Name != "" {
		parts = append(parts, p.Data.Name)
	}
	t := metric + ", " + what
	if len(parts) > 0 {
		t = strings.Join(parts, " on ") + ": " + t
	}
	return t
}

// captionOf returns the lines of a figure's caption from the provenance:
// the checkpoint and data, then the directions and grid.
func captionOf(p *surface.Provenance) []string {
	var l1, l2 []string
	if p.Checkpoint.Path != "" {
		l1 = append(l1, "checkpoint "+filepath.Base(p.Checkpoint.Path))
	}
	if p.Data.Name != "" {
		d := "data " + p.Data.Name
		if len(p.Data.Splits) > 0 {
			d += " " + strings.Join(p.Data.Splits, "+")
		}
		if len(p.Data.Samples) > 0 {
			n := make([]string, len(p.Data.Samples))
			for i, v := range p.Data.Samples {
				n[i] = strconv.Itoa(v)
			}
			d += " (" + strings.Join(n, " + ") + " samples)" // train+test (1000 + 1000 samples)
		}
		l1 = append(l1, d)
	}
	if p.Version != "" {
		l1 = append(l1, p.Tool+" "+p.Version)
	}
	if d := p.Directions; d.Kind != "" {
		s := "directions " + d.Kind
		switch d.Kind {
		case "random":
			s += fmt.Sprintf(" (seed %d)", d.Seed)
		default:
			if d.File != "" {
				s += " " + filepath.Base(d.File)
			}
		}
		if d.Norm != "" {
			s += ", norm " + d.Norm
		}
		if d.Ignore != "" {
			s += ", ignore " + d.Ignore
		}
		if d.Mode != "" {
			s += ", " + d.Mode
		}
		l2 = append(l2, s)
	}
	g := "grid x " + p.Grid.X.String()
	if p.Grid.Y != nil {
		g += ", y " + p.Grid.Y.String()
	}
	l2 = append(l2, g)
	var lines []string
	for _, l := range [][]string{l1, l2} {
		if len(l) > 0 {
			lines = append(lines, strings.Join(l, " · "))
		}
	}
	return lines
}

// axisLabels returns the labels of the x and y axes.
func axisLabels(p *surface.Provenance) (x, y string) {
	if p.Directions.Kind == "target" {
		return "α (0 = checkpoint, 1 = target)", "β (y direction)"
	}
	return "α (x direction)", "β (y direction)"
}
