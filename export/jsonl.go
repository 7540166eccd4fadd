package export

import (
	"bufio"
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/landscape-go/landscape/landscape/surface"
)

// encodeJSONLines writes the points of s to w as JSON lines, one object
// per point with the keys of [EncodeText] in its column order, for example
//
//	{"x":-1.0,"y":0.5,"i":0,"j":3,"train_loss":2.3125,"train_acc":11.0}
//
// Non-finite numbers and the y and j of a 1D surface are null.
func encodeJSONLines(w io.Writer, s *surface.Surface) error {
	// The keys, quoted once: `{"x":`, `,"y":`, `,"i":`, `,"j":`, then one
	// per metric.
	names := append([]string{colX, colY, colI, colJ}, s.Metrics...)
	keys := make([][]byte, len(names))
	for k, n := range names {
		q, err := json.Marshal(n)
		if err != nil {
			return err
		}
		sep := ","
		if k == 0 {
			sep = "{"
		}
		keys[k] = append(append([]byte(sep), q...), ':')
	}
	bw := bufio.NewWriter(w)
	oneD := s.Is1D()
	var line []byte
	for _, p := range s.Points {
		i, j := gridIndices(s, p)
		line = appendJSONFloat(append(line[:0], keys[0]...), p.X)
		line = append(line, keys[1]...)
		if oneD {
			line = append(line, "null"...)
		} else {
			line = appendJSONFloat(line, p.Y)
		}
		line = strconv.AppendInt(append(line, keys[2]...), int64(i), 10)
		line = append(line, keys[3]...)
		if j < 0 {
			line = append(line, "null"...)
		} else {
			line = strconv.AppendInt(line, int64(j), 10)
		}
		for m, v := range p.Values {
			line = appendJSONFloat(append(line, keys[4+m]...), v)
		}
		line = append(line, "}\n"...)
		if _, err := bw.Write(line); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// appendJSONFloat appends v as formatTextFloat writes it, or null if v
// is NaN or infinite.
func appendJSONFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	return append(b, formatTextFloat(v)...)
}
