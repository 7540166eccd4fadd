package normalize

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/nets"
)

// Norm selects how a random direction is scaled to the weights, tensor by
// tensor, for tensors of rank 2 and more.
type Norm int

const (
	// Filter scales each dim-0 slice d_i (an output channel of a
	// convolution, a row of a linear layer) to the norm of the matching
	// weight slice: d_i ← d_i·‖w_i‖/(‖d_i‖+1e-10). The recommended setting.
	Filter Norm = iota
	// Layer scales the whole tensor: d ← d·‖w‖/‖d‖.
	Layer
	// Weight multiplies element-wise: d ← d⊙w.
	Weight
	// DFilter scales each dim-0 slice to unit norm: d_i ← d_i/(‖d_i‖+1e-10).
	DFilter
	// DLayer scales the whole tensor to unit norm: d ← d/‖d‖.
	DLayer
	// None keeps the raw N(0,1) draws (the reference's CLI default).
	None
)

var normNames = [...]string{"filter", "layer", "weight", "dfilter", "dlayer", "none"}

func (n Norm) String() string {
	if n >= 0 && int(n) < len(normNames) {
		return normNames[n]
	}
	return fmt.Sprintf("Norm(%d)", int(n))
}

// ParseNorm parses a normalisation name as the reference's --xnorm takes it.
func ParseNorm(s string) (Norm, error) {
	for i, name := range normNames {
		if s == name {
			return Norm(i), nil
		}
	}
	return 0, fmt.Errorf("normalize: unknown normalisation %q (want filter, layer, weight, dfilter, dlayer or none)", s)
}

// Ignore selects what happens to the directions of tensors of rank 0 and
// 1: biases, batch-norm weights and biases, running statistics.
type Ignore int

const (
	// BiasBN zeroes them, so biases and BN parameters stay at the centre's
	// values (the reference's --xignore biasbn, the recommended setting).
	BiasBN Ignore = iota
	// CopyWeights sets each such direction equal to the tensor itself, so
	// moving by α scales every bias and BN parameter by (1+α): what the
	// reference does when --xignore is not given.
	CopyWeights
)

var ignoreNames = [...]string{"biasbn", "none"}

func (g Ignore) String() string {
	if g >= 0 && int(g) < len(ignoreNames) {
		return ignoreNames[g]
	}
	return fmt.Sprintf("Ignore(%d)", int(g))
}

// ParseIgnore parses "biasbn" or "none" (the reference's copy-the-weights
// behaviour).
func ParseIgnore(s string) (Ignore, error) {
	for i, name := range ignoreNames {
		if s == name {
			return Ignore(i), nil
		}
	}
	return 0, fmt.Errorf("normalize: unknown ignore rule %q (want biasbn, or none to give each bias and BN tensor its own value as direction, as the reference does without --xignore)", s)
}

// Mode selects which state-dict entries a direction covers.
type Mode int

const (
	// Weights covers the learnable parameters only; BN running statistics
	// stay at the centre's values.
	Weights Mode = iota
	// States covers every state-dict entry, buffers included.
	States
)

var modeNames = [...]string{"weights", "states"}

func (m Mode) String() string {
	if m >= 0 && int(m) < len(modeNames) {
		return modeNames[m]
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "weights" or "states".
func ParseMode(s string) (Mode, error) {
	for i, name := range modeNames {
		if s == name {
			return Mode(i), nil
		}
	}
	return 0, fmt.Errorf("normalize: unknown direction mode %q (want weights or states)", s)
}

// Options chooses how random directions are made. The zero value is the
// recommended setting: filter normalisation, biases and BN ignored,
// weights mode.
type Options struct {
	Norm   Norm
	Ignore Ignore
	Mode   Mode
}

// Random draws one random direction for net: i.i.d. N(0,1) float32 values
// per covered tensor, in state-dict order, then normalised against center
// with [Normalize]. Call it twice with the same rng for x and y.
func Random(net *nets.Net, center *nets.StateDict, opts *Options, rng *rand.Rand) (*nets.StateDict, error) {
	if opts == nil {
		opts = &Options{}
	}
	dir := &nets.StateDict{}
	for _, p := range net.Params {
		if opts.Mode == Weights && p.Kind != nets.Weight {
			continue
		}
		if _, ok := center.Get(p.Name); !ok {
			continue // a missing num_batches_tracked
		}
		t := nets.NewTensor(p.Shape...)
		for i := range t.Data {
			t.Data[i] = float32(rng.NormFloat64())
		}
		dir.Set(p.Name, t)
	}
	if err := Normalize(dir, center, opts.Norm, opts.Ignore); err != nil {
		return nil, err
	}
	return dir, nil
}

// NewRand returns the generator directions are drawn from for a seed: a
// PCG from math/rand/v2, so a seed gives the same directions on every
// machine and every run.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x6c616e6473636170)) // "landscap"
}

// Normalize rescales every tensor of dir in place against the weight of
// the same name in weights, as the reference's
// normalize_directions_for_states does: a tensor of rank ≤ 1 is zeroed
// (BiasBN) or set to the weight (CopyWeights); others are scaled by norm.
func Normalize(dir, weights *nets.StateDict, norm Norm, ignore Ignore) error {
	for _, name := range dir.Names() {
		d, _ := dir.Get(name)
		w, ok := weights.Get(name)
		if !ok {
			return fmt.Errorf("normalize: direction has %s, the weights do not", name)
		}
		if len(d.Data) != len(w.Data) {
			return fmt.Errorf("normalize: %s: direction shape %v, weight shape %v", name, d.Shape, w.Shape)
		}
		if d.Rank() <= 1 {
			if ignore == BiasBN {
				clear(d.Data)
			} else {
				copy(d.Data, w.Data)
			}
			continue
		}
		normalizeTensor(d, w, norm)
	}
	return nil
}

// normalizeTensor applies norm to one direction tensor d of rank ≥ 2.
// Norms are accumulated in float64 and the scale rounded to float32, so the
// result is within an ulp or two of PyTorch's float32 computation.
func normalizeTensor(d, w *nets.Tensor, norm Norm) {
	switch norm {
	case Filter, DFilter:
		rows := d.Shape[0]
		per := len(d.Data) / rows
		for i := range rows {
			dd, ww := d.Data[i*per:][:per], w.Data[i*per:][:per]
			target := 1.0
			if norm == Filter {
				target = l2(ww)
			}
			scale(dd, float32(target/(l2(dd)+1e-10)))
		}
	case Layer:
		scale(d.Data, float32(l2(w.Data)/l2(d.Data)))
	case DLayer:
		scale(d.Data, float32(1/l2(d.Data)))
	case Weight:
		for i := range d.Data {
			d.Data[i] *= w.Data[i]
		}
	case None:
	}
}

func l2(x []float32) float64 {
	var s float64
	for _, v := range x {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s)
}

func scale(x []float32, a float32) {
	for i := range x {
		x[i] *= a
	}
}

// Target returns the direction from center to target, B − A, unnormalised,
// over the parameters (Weights) or every state-dict entry (States), so that
// α = 0 is the centre and α = 1 the target. The two must have the same keys
// and shapes.
func Target(net *nets.Net, center, target *nets.StateDict, mode Mode) (*nets.StateDict, error) {
	dir := &nets.StateDict{}
	for _, p := range net.Params {
		if mode == Weights && p.Kind != nets.Weight {
			continue
		}
		a, okA := center.Get(p.Name)
		b, okB := target.Get(p.Name)
		if !okA || !okB {
			if okA != okB && p.Kind == nets.Weight {
				return nil, fmt.Errorf("normalize: target direction: %s is in only one of the two checkpoints", p.Name)
			}
			continue
		}
		if len(a.Data) != len(b.Data) {
			return nil, fmt.Errorf("normalize: target direction: %s has shape %v and %v", p.Name, a.Shape, b.Shape)
		}
		t := nets.NewTensor(p.Shape...)
		for i := range t.Data {
			t.Data[i] = b.Data[i] - a.Data[i]
		}
		dir.Set(p.Name, t)
	}
	return dir, nil
}

// Hash fingerprints directions: SHA-256 over each tensor's axis letter,
// name, shape and little-endian float32 values, in order. Equal hashes mean
// equal directions; it is stored in every output's provenance.
func Hash(x, y *nets.StateDict) string {
	h := sha256.New()
	buf := make([]byte, 0, 1<<16) // the values' bytes go to the hash a buffer at a time
	for _, d := range []struct {
		axis string
		sd   *nets.StateDict
	}{{"x", x}, {"y", y}} {
		if d.sd == nil {
			continue
		}
		for _, name := range d.sd.Names() {
			t, _ := d.sd.Get(name)
			fmt.Fprintf(h, "%s.%s%v\n", d.axis, name, t.Shape)
			if b, ok := npy.LittleEndianBytes(t.Data); ok {
				h.Write(b)
				continue
			}
			for _, v := range t.Data {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) == cap(buf) {
					h.Write(buf)
					buf = buf[:0]
				}
			}
			h.Write(buf)
			buf = buf[:0]
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
