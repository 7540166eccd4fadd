package data

import (
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/landscape-go/landscape/internal/npy"
)

// loadNPZ reads an NPZ dataset: arrays x_<split> and y_<split> if the
// archive has them (the layout of Keras' mnist.npz), else x and y.
func loadNPZ(spec Spec, split string, opts *Options) (*Dataset, error) {
	arch, err := npy.ReadNPZ(spec.Path)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", spec.Path, err)
	}
	return fromNPZ(arch, spec.Path, split, opts)
}

func fromNPZ(arch npy.Archive, file, split string, opts *Options) (*Dataset, error) {
	xName, yName := "x_"+split, "y_"+split
	x, okx := arch.Get(xName)
	y, oky := arch.Get(yName)
	if !okx || !oky {
		xName, yName = "x", "y"
		x, okx = arch.Get(xName)
		y, oky = arch.Get(yName)
	}
	if !okx || !oky {
		return nil, fmt.Errorf("data: %s: %w: want arrays x and y (or x_%s and y_%s), have %s",
			file, ErrFormat, split, split, strings.Join(arch.Names(), ", "))
	}

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

	// Labels: (N,) integers.
	if len(y.Shape) != 1 || y.Shape[0] != n {
		return nil, fmt.Errorf("data: %s: %w: %s has shape %v, want (%d,) to match %s", file, ErrFormat, yName, y.Shape, n, xName)
	}
	if !strings.Contains(y.DType, "int") {
		return nil, fmt.Errorf("data: %s: %w: %s has dtype %s, want an integer type", file, ErrFormat, yName, y.DType)
	}
	labels, err := y.Int64()
	if err != nil {
		return nil, fmt.Errorf("data: %s: %s: %w", file, yName, err)
	}
	sel, err := selectSamples(n, opts, file)
	if err != nil {
		return nil, err
	}
	classes := opts.Classes
	if classes == 0 {
		for _, l := range labels {
			classes = max(classes, int(min(l, 1<<31-2))+1)
		}
	}
	for i, l := range labels {
		if l < 0 || l >= int64(classes) {
			return nil, fmt.Errorf("data: %s: %w: %s[%d] = %d, want in [0, %d)", file, ErrLabel, yName, i, l, classes)
		}
	}

	count := sel.count(n)
	sz := c * h * w
	d := &Dataset{
		Name: NPZ.String(), Split: split,
		N: count, C: c, H: h, W: w,
		Classes: classes,
		X:       make([]float32, count*sz),
		Y:       make([]int32, count),
		Indices: sel.indices(),
		Total:   n,
	}
	var norm *normalizer
	if !isFloat {
		d.Mean, d.Std, err = resolveNorm(NPZ, opts, c, file)
		if err != nil {
			return nil, err
		}
		norm = newNormalizer(c, h*w, d.Mean, d.Std)
	}
	item, err := npy.ItemSize(x.DType)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %s: %w", file, xName, err)
	}
	raw := x.Bytes()
	for i := range count {
		j := i
		if sel != nil {
			j = sel[i]
		}
		dst := d.X[i*sz : (i+1)*sz]
		src := raw[j*sz*item : (j+1)*sz*item]
		if isFloat {
			if err := npy.ToFloat32(dst, src, x.DType, binary.LittleEndian); err != nil {
				return nil, fmt.Errorf("data: %s: %s: %w", file, xName, err)
			}
		} else {
			norm.convert(dst, src)
		}
		d.Y[i] = int32(labels[j])
	}
	return d, nil
}
