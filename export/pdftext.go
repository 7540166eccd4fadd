package export

import (
	"strings"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgpdf"
)

// This file makes text drawable in PDF output, whose fonts know only code
// page 1252.

// pdfCanvas is gonum's PDF canvas, whose fonts are encoded in Windows code
// page 1252; it encodes text so. The figures pass their own text through
// [txt] before they measure it, so that what code page 1252 lacks is
// replaced by then; whatever else reaches FillString, ? stands for.
type pdfCanvas struct{ *vgpdf.Canvas }

// FillString draws s encoded in code page 1252.
func (c pdfCanvas) FillString(f font.Face, pt vg.Point, s string) {
	c.Canvas.FillString(f, pt, toCP1252(s))
}

// isPDF reports whether c draws to a PDF file.
func isPDF(c draw.Canvas) bool {
	// draw.Crop nests canvases.
	cv := c.Canvas
	for {
		switch v := cv.(type) {
		case pdfCanvas:
			return true
		case draw.Canvas:
			cv = v.Canvas
		case *draw.Canvas:
			cv = v.Canvas
		default:
			return false
		}
	}
}

// txt returns s as it can be drawn on c: in a PDF, Greek letters are
// spelled out and other characters that code page 1252 lacks replaced.
func txt(c draw.Canvas, s string) string {
	if !isPDF(c) {
		return s
	}
	s = strings.NewReplacer("α", "alpha", "β", "beta", "≥", ">=", "²", "^2").Replace(s)
	return strings.Map(func(r rune) rune {
		if _, ok := cp1252(r); !ok {
			return '?'
		}
		return r
	}, s)
}

// cp1252 returns the code page 1252 byte of r.
func cp1252(r rune) (byte, bool) {
	switch {
	case r < 0x80 || (r >= 0xa0 && r <= 0xff):
		return byte(r), true
	}
	for i, h := range cp1252High {
		if h == r && h != 0 {
			return byte(0x80 + i), true
		}
	}
	return 0, false
}

// cp1252High are the characters of bytes 0x80 to 0x9f in code page 1252;
// zero where a byte is undefined.
var cp1252High = [32]rune{
	'€', 0, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0, 'Ž', 0,
	0, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0, 'ž', 'Ÿ',
}

// toCP1252 encodes s in code page 1252, with ? for what it lacks.
func toCP1252(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		c, ok := cp1252(r)
		if !ok {
			c = '?'
		}
		b = append(b, c)
	}
	return string(b)
}
