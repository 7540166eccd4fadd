package data

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/npy"
)

// loadNPZ reads an NPZ dataset: arrays x_<split> and y_<split> if the
// archive has them (the layout of Keras' mnist.npz), else x and y; or a
// .npy file of token ids (see [readTokens]).
func loadNPZ(spec Spec, split string, opts *Options) (*Dataset, error) {
	f, err := os.Open(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	if strings.HasSuffix(strings.ToLower(spec.Path), ".npy") {
		r := bufio.NewReader(f)
		h, err := npy.ReadHeader(r)
		if err != nil {
			return nil, fmt.Errorf("data: %s: %w", spec.Path, err)
		}
		if len(h.Shape) != 2 || !isInteger(h.DType) {
			return nil, fmt.Errorf("data: %s: %w: a .npy dataset is token ids, integers N x T, not %s %v", spec.Path, ErrFormat, h.DType, h.Shape)
		}
		return readTokens(h, r, nil, false, spec.Path, split, "the array", "", opts)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	return readNPZ(f, st.Size(), spec.Path, split, opts)
}

// readNPZ reads an NPZ dataset from the archive r of the given size. It
// streams both arrays: the labels are read once, keeping the selected
// ones, and the images up to the last selected one, converting only those.
// A deflated archive is thus never decompressed beyond what is needed, and
// nothing larger than the selected samples is allocated.
func readNPZ(r io.ReaderAt, size int64, file, split string, opts *Options) (*Dataset, error) {
	entries, err := npy.Entries(r, size)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", file, err)
	}
	byName := map[string]npy.Entry{}
	var names []string
	for _, e := range entries {
		byName[e.Name] = e
		names = append(names, e.Name)
	}
	xName, yName := "x_"+split, "y_"+split
	xe, okx := byName[xName]
	ye, oky := byName[yName]
	if !okx || !oky {
		xName, yName = "x", "y"
		xe, okx = byName[xName]
		ye, oky = byName[yName]
	}
	if !okx {
		// Token ids need no y: their targets are the next tokens.
		xName, yName = "x_"+split, "y_"+split
		if xe, okx = byName[xName]; !okx {
			xName, yName = "x", "y"
			xe, okx = byName[xName]
		}
	}
	if !okx {
		return nil, fmt.Errorf("data: %s: %w: want arrays x and y (or x_%s and y_%s), have %s",
			file, ErrFormat, split, split, strings.Join(names, ", "))
	}
	x, xr, err := npy.OpenEntry(xe.File)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %s: %w", file, xe.File.Name, err)
	}
	defer xr.Close()
	if len(x.Shape) == 2 && isInteger(x.DType) {
		return readTokens(x, xr, ye.File, oky, file, split, xName, yName, opts)
	}
	if !oky {
		return nil, fmt.Errorf("data: %s: %w: want arrays x and y (or x_%s and y_%s), have %s",
			file, ErrFormat, split, split, strings.Join(names, ", "))
	}
	y, yr, err := npy.OpenEntry(ye.File)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %s: %w", file, ye.File.Name, err)
	}
	defer yr.Close()

	// Images: (N, C, H, W) or (N, H, W).
	var n, c, h, w int
	switch len(x.Shape) {
	case 4:
		n, c, h, w = x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	case 3:
		n, c, h, w = x.Shape[0], 1, x.Shape[1], x.Shape[2]
	default:
		return nil, fmt.Errorf("data: %s: %w: %s has shape %v, want (N, C, H, W) or (N, H, W)", file, ErrFormat, xName, x.Shape)
	}
	if n > 0 && c*h*w == 0 {
		return nil, fmt.Errorf("data: %s: %w: %s has shape %v, empty images", file, ErrFormat, xName, x.Shape)
	}
	isFloat := false
	switch x.DType {
	case "uint8":
	case "float16", "bfloat16", "float32", "float64":
		isFloat = true
	default:
		return nil, fmt.Errorf("data: %s: %w: %s has dtype %s, want uint8 or a float type", file, ErrFormat, xName, x.DType)
	}
	if isFloat && opts.Mean != nil {
		return nil, fmt.Errorf("data: %s: %w: %s holds %s values, taken as already normalised; Mean and Std apply only to uint8 images",
			file, ErrOption, xName, x.DType)
	}
	if x.Fortran && n > 1 {
		return nil, fmt.Errorf("data: %s: %w: %s is stored in Fortran order; save numpy.ascontiguousarray(%s) instead", file, ErrFormat, xName, xName)
	}

	// Labels: (N,) integers.
	if len(y.Shape) != 1 || y.Shape[0] != n {
		return nil, fmt.Errorf("data: %s: %w: %s has shape %v, want (%d,) to match %s", file, ErrFormat, yName, y.Shape, n, xName)
	}
	if !strings.Contains(y.DType, "int") {
		return nil, fmt.Errorf("data: %s: %w: %s has dtype %s, want an integer type", file, ErrFormat, yName, y.DType)
	}
	sel, err := selectSamples(n, opts, file)
	if err != nil {
		return nil, err
	}
	count := sel.count(n)
	sz := c * h * w
	if err := opts.checkMemory(file, count, sz, 0); err != nil {
		return nil, err
	}
	labels, classes, err := readLabels(yr, y, sel, opts.Classes, file, yName)
	if err != nil {
		return nil, err
	}

	d := &Dataset{
		Name: NPZ.String(), Split: split,
		N: count, C: c, H: h, W: w,
		Classes: classes,
		X:       hugemem.Float32s(count * sz),
		Y:       labels,
		Indices: sel.indices(),
		Total:   n,
		Arrays:  xName + ", " + yName,
	}
	var norm *normalizer
	if !isFloat {
		d.Mean, d.Std, err = resolveNorm(NPZ, opts, c, file)
		if err != nil {
			return nil, err
		}
		norm = newNormalizer(c, h*w, d.Mean, d.Std)
	}
	item, _ := npy.ItemSize(x.DType)
	buf := make([]byte, sz*item)
	next := 0 // image of the file to read next
	for i := range count {
		j := i
		if sel != nil {
			j = sel[i]
		}
		if _, err := io.CopyN(io.Discard, xr, int64(j-next)*int64(len(buf))); err != nil {
			return nil, npzReadError(file, xName, err)
		}
		if _, err := io.ReadFull(xr, buf); err != nil {
			return nil, npzReadError(file, xName, err)
		}
		next = j + 1
		dst := d.X[i*sz : (i+1)*sz]
		if isFloat {
			if err := npy.ToFloat32(dst, buf, x.DType, x.Order); err != nil {
				return nil, fmt.Errorf("data: %s: %s: %w", file, xName, err)
			}
		} else {
			norm.convert(dst, buf)
		}
	}
	if next == n { // read to the end: check the CRC-32
		if err := expectEnd(xr); err != nil {
			return nil, npzReadError(file, xName, err)
		}
	}
	return d, nil
}

// readLabels streams the n labels of y from r, checks every one, and
// returns the selected ones and the class count: classes if not 0, else
// the largest label plus one.
func readLabels(r io.Reader, y *npy.Header, sel selection, classes int, file, name string) ([]int32, int, error) {
	n := y.Shape[0]
	item, _ := npy.ItemSize(y.DType)
	const chunk = 1 << 14
	buf := make([]byte, chunk*item)
	vals := make([]int64, chunk)
	out := make([]int32, 0, sel.count(n))
	maxLabel, maxAt := int64(-1), 0
	next := 0 // position in sel of the next wanted label
	for start := 0; start < n; start += chunk {
		k := min(chunk, n-start)
		if _, err := io.ReadFull(r, buf[:k*item]); err != nil {
			return nil, 0, npzReadError(file, name, err)
		}
		if err := npy.ToInt64(vals[:k], buf[:k*item], y.DType, y.Order); err != nil {
			return nil, 0, fmt.Errorf("data: %s: %s: %w", file, name, err)
		}
		for i, l := range vals[:k] {
			g := start + i
			if l < 0 || classes > 0 && l >= int64(classes) {
				want := "a class index ≥ 0"
				if classes > 0 {
					want = fmt.Sprintf("in [0, %d)", classes)
				}
				return nil, 0, fmt.Errorf("data: %s: %w: %s[%d] = %d, want %s", file, ErrLabel, name, g, l, want)
			}
			if l > maxLabel {
				maxLabel, maxAt = l, g
			}
			if sel == nil || next < len(sel) && sel[next] == g {
				out = append(out, int32(l))
				next++
			}
		}
	}
	if err := expectEnd(r); err != nil {
		return nil, 0, npzReadError(file, name, err)
	}
	if classes == 0 {
		if maxLabel >= 1<<31-1 {
			return nil, 0, fmt.Errorf("data: %s: %w: %s[%d] = %d, want in [0, %d)", file, ErrLabel, name, maxAt, maxLabel, 1<<31-1)
		}
		classes = int(maxLabel) + 1
	}
	return out, classes, nil
}

// expectEnd reads the end of an archive entry, which makes archive/zip
// check its CRC-32.
func expectEnd(r io.Reader) error {
	var b [1]byte
	if n, err := io.ReadFull(r, b[:]); n > 0 {
		return errors.New("data after the array")
	} else if err != io.EOF {
		return err
	}
	return nil
}

func npzReadError(file, name string, err error) error {
	return fmt.Errorf("data: %s: %w: reading %s: %w", file, ErrFormat, name, err)
}
