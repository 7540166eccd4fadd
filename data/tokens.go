package data

import (
	"archive/zip"
	"fmt"
	"io"
	"strings"

	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/npy"
)

// MaxToken is the largest token id a dataset may hold: ids travel as
// float32 values, exact up to 2^24.
const MaxToken = 1<<24 - 1

// isInteger reports whether an npy dtype holds integers.
func isInteger(dtype string) bool { return strings.Contains(dtype, "int") }

// readTokens reads token data from an npz archive: x, the token ids N x T
// (any integer type), and either y, the targets N x T, or none, when the
// targets are the next tokens: the inputs are then x[:, :T-1] and the
// targets x[:, 1:]. Each sample is a sequence of Seq positions, each with
// its target, so that the loss is the mean next-token cross-entropy over
// every predicted token and the accuracy the share of tokens predicted
// right. The vocabulary (Classes) is opts.Classes, or the largest id plus
// one.
func readTokens(x *npy.Header, xr io.Reader, yf *zip.File, hasY bool, file, split, xName, yName string, opts *Options) (*Dataset, error) {
	if opts.Mean != nil {
		return nil, fmt.Errorf("data: %s: %w: %s holds token ids; Mean and Std (--mean, --std) apply to images", file, ErrOption, xName)
	}
	if x.Fortran && x.Shape[0] > 1 {
		return nil, fmt.Errorf("data: %s: %w: %s is stored in Fortran order; save numpy.ascontiguousarray(%s) instead", file, ErrFormat, xName, xName)
	}
	n, t := x.Shape[0], x.Shape[1]
	seq := t - 1
	var y *npy.Header
	var yr io.ReadCloser
	if hasY {
		var err error
		if y, yr, err = npy.OpenEntry(yf); err != nil {
			return nil, fmt.Errorf("data: %s: %s: %w", file, yf.Name, err)
		}
		defer yr.Close()
		if len(y.Shape) != 2 || y.Shape[0] != n || y.Shape[1] != t || !isInteger(y.DType) || y.Fortran && n > 1 {
			return nil, fmt.Errorf("data: %s: %w: %s is token ids %v; %s must be their targets, integers of the same shape (or leave it out: the targets are then the next tokens), not %s %v",
				file, ErrFormat, xName, x.Shape, yName, y.DType, y.Shape)
		}
		seq = t
	}
	if seq < 1 {
		return nil, fmt.Errorf("data: %s: %w: %s has shape %v: sequences of %d tokens leave no next token to predict", file, ErrFormat, xName, x.Shape, t)
	}
	sel, err := selectSamples(n, opts, file)
	if err != nil {
		return nil, err
	}
	count := sel.count(n)
	if err := opts.checkMemory(file, count, 2*seq, 0); err != nil {
		return nil, err
	}
	d := &Dataset{
		Name: NPZ.String(), Split: split,
		N: count, C: 1, H: 1, W: seq, Seq: seq,
		X: hugemem.Float32s(count * seq), Y: make([]int32, count*seq),
		Indices: sel.indices(), Total: n,
		Arrays: xName,
	}
	xs := newRowReader(xr, x, file, xName)
	var ys *rowReader
	if hasY {
		ys = newRowReader(yr, y, file, yName)
		d.Arrays += ", " + yName
	}
	largest := int64(-1)
	check := func(v int64, name string, row, col int) (int64, error) {
		limit := int64(MaxToken)
		if opts.Classes > 0 {
			limit = int64(opts.Classes) - 1
		}
		if v < 0 || v > limit {
			return 0, fmt.Errorf("data: %s: %w: %s[%d, %d] = %d, want a token id in [0, %d]", file, ErrLabel, name, row, col, v, limit)
		}
		largest = max(largest, v)
		return v, nil
	}
	for i := range count {
		j := i
		if sel != nil {
			j = sel[i]
		}
		ids, err := xs.row(j)
		if err != nil {
			return nil, err
		}
		targets := ids[1:]
		if hasY {
			if targets, err = ys.row(j); err != nil {
				return nil, err
			}
		}
		for k := range seq {
			in, err := check(ids[k], xName, j, k)
			if err != nil {
				return nil, err
			}
			col, name := k+1, xName
			if hasY {
				col, name = k, yName
			}
			out, err := check(targets[k], name, j, col)
			if err != nil {
				return nil, err
			}
			d.X[i*seq+k], d.Y[i*seq+k] = float32(in), int32(out)
		}
	}
	for _, r := range []*rowReader{xs, ys} {
		if r != nil && r.next == n {
			if err := expectEnd(r.r); err != nil {
				return nil, npzReadError(file, r.name, err)
			}
		}
	}
	d.Classes = opts.Classes
	if d.Classes == 0 {
		d.Classes = int(largest) + 1
	}
	return d, nil
}

// rowReader streams the rows of an integer matrix, skipping to those
// asked for (in increasing order).
type rowReader struct {
	r          io.Reader
	h          *npy.Header
	file, name string
	buf        []byte
	vals       []int64
	next       int // the row to be read next
}

func newRowReader(r io.Reader, h *npy.Header, file, name string) *rowReader {
	item, _ := npy.ItemSize(h.DType)
	return &rowReader{r: r, h: h, file: file, name: name, buf: make([]byte, h.Shape[1]*item), vals: make([]int64, h.Shape[1])}
}

// row returns row j, valid until the next call.
func (r *rowReader) row(j int) ([]int64, error) {
	if _, err := io.CopyN(io.Discard, r.r, int64(j-r.next)*int64(len(r.buf))); err != nil {
		return nil, npzReadError(r.file, r.name, err)
	}
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		return nil, npzReadError(r.file, r.name, err)
	}
	r.next = j + 1
	if err := npy.ToInt64(r.vals, r.buf, r.h.DType, r.h.Order); err != nil {
		return nil, fmt.Errorf("data: %s: %s: %w", r.file, r.name, err)
	}
	return r.vals, nil
}
