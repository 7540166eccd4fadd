package data

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
)

// normalizer maps the bytes of one image, channel-major (CHW), to
// normalised float32 values through one 256-entry table per channel.
//
// Each table entry is computed exactly as torchvision computes it for a
// uint8 pixel b: ToTensor gives x = float32(b) / 255 in float32, and
// Normalize gives (x - float32(mean)) / float32(std) in float32. A table
// lookup returns the very same bits.
type normalizer struct {
	plane int // H·W, the values per channel
	lut   [][256]float32
}

// resolveNorm returns the mean and std Load applies for c channels: those
// of opts, or the kind's defaults, with a single entry broadcast to every
// channel; a kind without defaults given none gets mean 0 and std 1, the
// /255 of ToTensor alone.
func resolveNorm(kind Kind, opts *Options, c int, file string) (mean, std []float64, err error) {
	mean, std = opts.Mean, opts.Std
	if mean == nil {
		mean, std = DefaultNorm(kind)
	}
	if mean == nil { // ToTensor's scaling alone, recorded as such
		mean, std = []float64{0}, []float64{1}
	}
	bcast := func(v []float64, what string) ([]float64, error) {
		switch len(v) {
		case c:
			return slices.Clone(v), nil
		case 1:
			out := make([]float64, c)
			for i := range out {
				out[i] = v[0]
			}
			return out, nil
		}
		return nil, fmt.Errorf("data: %s: %w: %s has %d entries for %d-channel images", file, ErrOption, what, len(v), c)
	}
	if mean, err = bcast(mean, "Mean (--mean)"); err != nil {
		return nil, nil, err
	}
	if std, err = bcast(std, "Std (--std)"); err != nil {
		return nil, nil, err
	}
	return mean, std, nil
}

// newNormalizer builds the tables for images of c channels of plane values
// each. Nil mean and std give plain ToTensor scaling.
func newNormalizer(c, plane int, mean, std []float64) *normalizer {
	n := &normalizer{plane: plane, lut: make([][256]float32, c)}
	for ch := range n.lut {
		m, s := float32(0), float32(1)
		if mean != nil {
			m, s = float32(mean[ch]), float32(std[ch])
		}
		for b := range 256 {
			x := float32(b) / 255
			if mean != nil {
				x = (x - m) / s
			}
			n.lut[ch][b] = x
		}
	}
	return n
}

// convert writes the normalised values of one image src (C·H·W bytes, CHW)
// to dst, which must have the same length.
func (n *normalizer) convert(dst []float32, src []byte) {
	if len(dst) != len(src) || len(src) != len(n.lut)*n.plane {
		panic("data: convert: length mismatch")
	}
	for ch := range n.lut {
		t := &n.lut[ch]
		s := src[ch*n.plane : (ch+1)*n.plane]
		d := dst[ch*n.plane : (ch+1)*n.plane]
		for i, b := range s {
			d[i] = t[b]
		}
	}
}

// selection is the sorted list of sample positions Load takes from a split
// of total samples; nil means all of them, in order.
type selection []int

// selectSamples returns the samples opts asks for out of total.
func selectSamples(total int, opts *Options, file string) (selection, error) {
	if total == 0 {
		return nil, fmt.Errorf("data: %s: %w: no samples", file, ErrEmpty)
	}
	k := opts.Samples
	if k == 0 {
		return nil, nil
	}
	if k > total {
		return nil, fmt.Errorf("data: %s: %w: Samples (--samples) %d, but the split holds %d", file, ErrOption, k, total)
	}
	if opts.SampleSeed == nil {
		if k == total {
			return nil, nil
		}
		sel := make(selection, k)
		for i := range sel {
			sel[i] = i
		}
		return sel, nil
	}
	return randomSubset(total, k, *opts.SampleSeed), nil
}

// randomSubset returns k distinct positions out of [0, n), sorted, chosen by
// the first k steps of a Fisher–Yates shuffle driven by PCG(seed, 0). Only
// the positions the shuffle touches are stored, so memory is O(k).
func randomSubset(n, k int, seed uint64) selection {
	src := rand.NewPCG(seed, 0)
	swapped := make(map[int]int, k) // virtual array a[i] = i except where stored
	at := func(i int) int {
		if v, ok := swapped[i]; ok {
			return v
		}
		return i
	}
	sel := make(selection, k)
	for i := range k {
		j := i + int(uniform(src, uint64(n-i)))
		sel[i] = at(j)
		swapped[j] = at(i)
	}
	slices.Sort(sel)
	return sel
}

// uniform returns a uniform value in [0, n), n > 0, from src by Lemire's
// multiply-and-reject method. It is spelled out here, rather than taken
// from rand.Rand.Uint64N, whose reduction differs on 32-bit platforms, so
// that a seed selects the same samples on every machine.
func uniform(src *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(src.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), n)
		}
	}
	return hi
}

// count returns the number of selected samples out of total.
func (s selection) count(total int) int {
	if s == nil {
		return total
	}
	return len(s)
}

// indices returns the selection as Dataset.Indices: nil for all samples.
func (s selection) indices() []int {
	if s == nil {
		return nil
	}
	return slices.Clone(s)
}
