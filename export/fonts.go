package export

import (
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

	textHandler text.Handler = text.Plain{Fonts: font.NewCache(func() font.Collection {
		coll := liberation.Collection()
		for _, f := range coll {
			if f.Font.Variant == "Sans" && f.Font.Weight == xfont.WeightBold && f.Font.Style == xfont.StyleNormal {
				coll = append(coll, font.Face{Font: pdfBold, Face: f.Face})
			}
		}
		return coll
	}())}
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
