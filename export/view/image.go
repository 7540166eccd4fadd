package view

import (
	"bytes"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/landscape/surface"
)

// This file draws the image under a panel's readout: the filled contours
// of a 2D surface or the curve of a 1D one, with gonum/plot and package
// export's plotters, and says where in the image the data are.

// Size of the image in points, and its resolution: twice the 96 pixels
// per inch of a browser at 100%, so that it is sharp on high-density
// screens too.
const (
	imageWidth  = 5.6 * vg.Inch
	imageHeight = 4.4 * vg.Inch
	imageDPI    = 192
	barWidth    = 0.95 * vg.Inch
)

// imageMap is a drawn image and the rectangle of it that shows the data,
// in points from its top left corner: left, top, right, bottom.
type imageMap struct {
	png           []byte
	width, height vg.Length
	data          [4]float64
}

// newPlot returns a plot with its text in Liberation Sans, the figures'
// font.
func newPlot(xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	sans := font.Font{Typeface: "Liberation", Variant: "Sans"}
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, 11)
		a.Tick.Label.Font = font.From(sans, 9.5)
		a.Padding = 0
	}
	p.X.Label.Text, p.Y.Label.Text = xlabel, ylabel
	return p
}

// contourInk is the colour of the contour lines over the filled contours:
// white, a little transparent, as matplotlib's contour(colors='w') over
// contourf.
var contourInk = export.ColorMap{{R: 255, G: 255, B: 255, A: 200}, {R: 255, G: 255, B: 255, A: 200}}

// drawMap draws the filled contours of the 2D field f, its contour lines
// with their levels written along them, and the colour bar.
func drawMap(f *surface.Field, sc *export.Scales) (imageMap, error) {
	p := newPlot(sc.XLabel, sc.YLabel)
	p.Add(export.MissingCells{Field: f},
		export.FilledContours{Field: f, Levels: sc.Levels, Scale: sc.Map},
		export.ContourLines{Field: f, Levels: sc.Levels, Scale: export.ColorScale{Min: sc.Map.Min, Max: sc.Map.Max, Log: sc.Map.Log, Colors: contourInk}, Labels: true, Width: 0.8})
	bar := newPlot("", sc.Metric)
	bar.Add(export.ColorBar{Scale: sc.Map, Levels: sc.Levels, Filled: true})
	bar.HideX()
	bar.Y.Tick.Marker = export.ColorBar{Scale: sc.Map}
	if sc.Map.Log {
		bar.Y.Scale = plot.LogScale{}
	}
	return render(func(c draw.Canvas) draw.Canvas {
		main := draw.Crop(c, 0, -barWidth, 0, 0)
		p.Draw(main)
		dc := p.DataCanvas(main)
		right := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: main.Max.X + 0.15*vg.Inch, Y: dc.Min.Y},
			Max: vg.Point{X: c.Max.X, Y: dc.Max.Y},
		}}
		bar.Draw(right)
		return dc
	})
}

// drawCurve draws the 1D field f as a line through its finite points,
// marked at each.
func drawCurve(f *surface.Field, sc *export.Scales) (imageMap, error) {
	p := newPlot(sc.XLabel, sc.Metric)
	p.X.Padding, p.Y.Padding = 0, 5 // the marks at the ends show whole
	ink := color.NRGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 255}
	// A line through each run of finite values, so that a NaN breaks it.
	var run plotter.XYs
	flush := func() {
		if len(run) > 0 {
			l, s, err := plotter.NewLinePoints(run)
			if err == nil {
				l.Color, s.Color, s.Radius = ink, ink, 1.5
				p.Add(l, s)
			}
			run = nil
		}
	}
	for i, v := range f.Z[0] {
		if finite(v) && (!sc.Map.Log || v > 0) {
			run = append(run, plotter.XY{X: f.X[i], Y: v})
		} else {
			flush()
		}
	}
	flush()
	p.X.Min, p.X.Max = f.X[0], f.X[len(f.X)-1]
	if p.X.Min == p.X.Max {
		p.X.Min, p.X.Max = p.X.Min-0.5, p.X.Max+0.5
	}
	if sc.Map.Log {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = export.ColorBar{Scale: sc.Map}
		p.Y.Min, p.Y.Max = sc.Map.Min, sc.Map.Max
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range f.Z[0] {
			if finite(v) && v > 0 {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if lo <= hi {
			p.Y.Min, p.Y.Max = lo, hi
		}
		if !(p.Y.Min < p.Y.Max) {
			p.Y.Min, p.Y.Max = p.Y.Min/2, p.Y.Min*2
		}
	}
	p.Add(plotter.NewGrid())
	return render(func(c draw.Canvas) draw.Canvas {
		p.Draw(c)
		return p.DataCanvas(c)
	})
}

// render draws with body, which returns the canvas of the data, on a
// white image of the panel's size, and encodes it as PNG.
func render(body func(c draw.Canvas) draw.Canvas) (imageMap, error) {
	img := vgimg.NewWith(vgimg.UseWH(imageWidth, imageHeight), vgimg.UseDPI(imageDPI), vgimg.UseBackgroundColor(color.White))
	c := draw.New(img)
	c = draw.Crop(c, 6, -8, 4, -8) // a margin, as the figures have
	dc := body(c)
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&b); err != nil {
		return imageMap{}, err
	}
	h := float64(imageHeight)
	return imageMap{
		png: b.Bytes(), width: imageWidth, height: imageHeight,
		data: [4]float64{float64(dc.Min.X), h - float64(dc.Max.Y), float64(dc.Max.X), h - float64(dc.Min.Y)},
	}, nil
}

// formatLength writes a length in points for an SVG attribute.
func formatLength(l vg.Length) string { return strconv.FormatFloat(float64(l), 'f', -1, 64) }
