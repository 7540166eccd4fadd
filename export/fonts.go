package export

import (
	"math"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// This file holds the fonts of the figures: Liberation Sans, embedded, so
// that figures look the same on every machine.

// boldFont returns the bold font for c. In a PDF it is the bold face
// registered as a variant of its own: gonum's PDF canvas registers every
// font as regular weight and then fails to find a bold one.
func boldFont(c draw.Canvas) font.Font {
	if isPDF(c) {
		return pdfBold
	}
	return bold
}

// Fonts.
var (
	sans    = font.Font{Typeface: "Liberation", Variant: "Sans"}
	bold    = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	pdfBold = font.Font{Typeface: "Liberation", Variant: "SansBold"}

	textHandler text.Handler = richText{text.Plain{Fonts: font.NewCache(func() font.Collection {
		coll := liberation.Collection()
		for _, f := range coll {
			if f.Font.Variant == "Sans" && f.Font.Weight == xfont.WeightBold && f.Font.Style == xfont.StyleNormal {
				coll = append(coll, font.Face{Font: pdfBold, Face: f.Face})
			}
		}
		return coll
	}())}}
)

// textStyle returns a text style in the figure's font.
func textStyle(fnt font.Font, size vg.Length) draw.TextStyle {
	return draw.TextStyle{
		Color:   inkColor,
		Font:    font.From(fnt, size),
		Handler: textHandler,
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
	}
}

// Font sizes in points.
const (
	titleSize   = 11
	labelSize   = 10
	tickSize    = 8.5
	captionSize = 7
	contourSize = 7
	legendSize  = 8
)

// Superscripts: a text marks a run to raise, such as the exponent of a
// power of ten in a tick label, by supStart and supEnd (characters of
// Unicode's private use area, which no other text holds), and richText
// draws it smaller and raised.
const (
	supStart = '\uE000'
	supEnd   = '\uE001'
	// supScale is the size of a superscript relative to the text's, and
	// supRaise how far its baseline is raised, in the text's size.
	supScale = 0.7
	supRaise = 0.4
)

// superscript returns s marked as a superscript.
func superscript(s string) string { return string(supStart) + s + string(supEnd) }

// flatten returns txt with its superscripts written after a caret, as
// text handlers other than richText can draw them: 10^5 for 10⁵.
func flatten(txt string) string {
	return strings.NewReplacer(string(supStart), "^", string(supEnd), "").Replace(txt)
}

// richText is gonum's plain text handler that also draws superscripts. It
// takes a text to be one line.
type richText struct{ text.Plain }

// run is a stretch of text in one style.
type run struct {
	s   string
	sup bool
}

// runs splits txt into its plain and superscript runs.
func runs(txt string) []run {
	var rs []run
	for txt != "" {
		before, after, _ := strings.Cut(txt, string(supStart))
		if before != "" {
			rs = append(rs, run{s: before})
		}
		sup, rest, _ := strings.Cut(after, string(supEnd))
		if sup != "" {
			rs = append(rs, run{s: sup, sup: true})
		}
		txt = rest
	}
	return rs
}

// faces returns the faces of the text and of its superscripts in fnt.
func (h richText) faces(fnt font.Font) (face, sup font.Face) {
	small := fnt
	small.Size = fnt.Size * supScale
	return h.Fonts.Lookup(fnt, fnt.Size), h.Fonts.Lookup(small, small.Size)
}

// Box implements text.Handler.
func (h richText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	if !strings.ContainsRune(txt, supStart) {
		return h.Plain.Box(txt, fnt)
	}
	face, sup := h.faces(fnt)
	for _, r := range runs(txt) {
		if r.sup {
			width += sup.Width(r.s)
		} else {
			width += face.Width(r.s)
		}
	}
	height = max(face.Extents().Ascent, supRaise*fnt.Size+sup.Extents().Ascent)
	return width, height, face.Extents().Descent
}

// Draw implements text.Handler. It places the text as text.Plain does,
// by the box of all its runs.
func (h richText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	if !strings.ContainsRune(txt, supStart) {
		h.Plain.Draw(c, txt, sty, pt)
		return
	}
	pdf := false
	switch dc := c.(type) {
	case *draw.Canvas:
		pdf = isPDF(*dc)
	case draw.Canvas:
		pdf = isPDF(dc)
	}
	face, sup := h.faces(sty.Font)
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		defer c.Pop()
		c.Rotate(sty.Rotation)
		sin, cos := math.Sincos(sty.Rotation)
		pt.X, pt.Y = pt.Y*vg.Length(sin)+pt.X*vg.Length(cos), pt.Y*vg.Length(cos)-pt.X*vg.Length(sin)
	}
	w, _, _ := h.Box(txt, sty.Font)
	x := pt.X + vg.Length(sty.XAlign)*w
	y := pt.Y + sty.Height(txt)*vg.Length(sty.YAlign) - face.Extents().Ascent + sty.Font.Size
	for _, r := range runs(txt) {
		if !r.sup {
			c.FillString(face, vg.Point{X: x, Y: y}, r.s)
			x += face.Width(r.s)
			continue
		}
		s := r.s
		if pdf {
			s = strings.ReplaceAll(s, "−", "–") // code page 1252 has no minus sign
		}
		c.FillString(sup, vg.Point{X: x, Y: y + supRaise*sty.Font.Size}, s)
		x += sup.Width(r.s)
	}
}
