package backend

import (
	"context"
	"fmt"

	"github.com/landscape-go/landscape/nets"
)

// Problem is everything a backend needs to evaluate a loss surface: an
// architecture, its weights at the centre, the two directions and the data.
// Backends may read its tensors in place rather than copy them: they must
// not change while an evaluator made from the problem is in use.
type Problem struct {
	Net *nets.Net
	// Center holds θ, the weights at (0, 0), including batch-norm running
	// statistics (used as they are: BN runs in eval mode).
	Center *nets.StateDict
	// X and Y hold the directions u and v keyed by state-dict name; a key
	// absent from a direction moves nothing. Y is nil for a 1D surface.
	// Directions may include buffers (running statistics) in states mode.
	X, Y *nets.StateDict
	// Data lists the datasets (splits) to average over; every point gives a
	// loss and an accuracy for each.
	Data []*Data
	// BatchSize is the number of samples per forward pass on the CPU; 0
	// means 128, the reference's default. It changes only the order of
	// summation. The CUDA backend sizes its batches from free memory
	// instead (cuda.Options.MaxBatch bounds them).
	BatchSize int
}

// Data is a dataset resident in memory, already normalised.
type Data struct {
	Name       string    // e.g. "train"
	N, C, H, W int       // samples and per-sample shape
	X          []float32 // N*C*H*W values, NCHW order
	Y          []int32   // the labels: one per sample, or Seq
	// Seq is, for token data (X holding token ids, 1 x 1 x Seq a
	// sample), the targets of a sample: its next tokens, Y holding
	// N*Seq of them. The loss and accuracy are then the mean over all
	// targets. 0 means one label per sample.
	Seq int
}

// Targets returns the number of labels per sample: 1, or Seq.
func (d *Data) Targets() int { return max(d.Seq, 1) }

// Coord is a grid point (α, β): the weights there are θ + αu + βv.
type Coord struct{ X, Y float64 }

// Evaluator computes the loss surface of one Problem on one device.
type Evaluator interface {
	// Evaluate evaluates every point and calls emit once per point, from
	// one goroutine at a time, with values holding, for each dataset of the
	// problem in order, the mean cross-entropy loss and the accuracy in
	// percent. Points may complete in any order. It returns ctx.Err() if
	// ctx is cancelled, after the points already emitted.
	Evaluate(ctx context.Context, coords []Coord, emit func(i int, values []float64)) error
	// Describe says what runs the evaluation, e.g. "cpu: 2 workers, OpenBLAS".
	Describe() string
	// Arithmetic names how the numbers are computed, ending in the
	// precision, e.g. "cpu/avx512-winograd/fp32" or "cuda/heuristic/tf32":
	// evaluators with the same arithmetic give the same bits for a point,
	// others agree to the precision's rounding.
	Arithmetic() string
	// BatchSize is the number of samples per forward pass the evaluator
	// uses: Problem.BatchSize on the CPU, what free memory allows on a GPU.
	BatchSize() int
	// Close releases the evaluator's resources.
	Close() error
}

// Validate checks that p is complete and consistent: the weights fit the
// architecture, the directions name only known entries with the right
// shapes, and the data has the shape the network takes.
func (p *Problem) Validate() error {
	if p.Net == nil || p.Center == nil {
		return fmt.Errorf("backend: problem without a net or centre weights")
	}
	if err := p.Net.Check(p.Center); err != nil {
		return err
	}
	for _, dir := range []struct {
		name string
		sd   *nets.StateDict
	}{{"x", p.X}, {"y", p.Y}} {
		if dir.sd == nil {
			continue
		}
		for _, k := range dir.sd.Names() {
			param, ok := p.Net.Param(k)
			t, _ := dir.sd.Get(k)
			switch {
			case !ok:
				return fmt.Errorf("backend: %s direction has key %s, which model %s does not have", dir.name, k, p.Net.Name)
			case nets.NumElements(t.Shape) != nets.NumElements(param.Shape) || len(t.Data) != nets.NumElements(param.Shape):
				return fmt.Errorf("backend: %s direction %s: shape %v, model wants %v", dir.name, k, t.Shape, param.Shape)
			}
		}
	}
	cfg := p.Net.Config
	for _, d := range p.Data {
		switch {
		case d.N < 1:
			return fmt.Errorf("backend: dataset %s is empty", d.Name)
		case d.C != cfg.InChannels || d.H != cfg.Height || d.W != cfg.Width:
			return fmt.Errorf("backend: dataset %s has %dx%dx%d samples, model %s takes %dx%dx%d", d.Name, d.C, d.H, d.W, p.Net.Name, cfg.InChannels, cfg.Height, cfg.Width)
		case d.Seq != cfg.Seq:
			return fmt.Errorf("backend: dataset %s has %d targets per sample, model %s predicts %d", d.Name, d.Targets(), p.Net.Name, cfg.Targets())
		case len(d.X) != d.N*d.C*d.H*d.W || len(d.Y) != d.N*d.Targets():
			return fmt.Errorf("backend: dataset %s: %d values and %d labels for %d samples", d.Name, len(d.X), len(d.Y), d.N)
		}
		for i, y := range d.Y {
			if y < 0 || int(y) >= cfg.Classes {
				return fmt.Errorf("backend: dataset %s: sample %d has label %d, model %s has %d classes", d.Name, i, y, p.Net.Name, cfg.Classes)
			}
		}
	}
	return nil
}

// DiffParams returns the parameters of n a differentiator takes, in n's
// order (the order of its vectors): those named in names, or with nil
// every learnable parameter (the Weight entries). Buffers cannot be
// differentiated, and a name n lacks is an error.
func DiffParams(n *nets.Net, names []string) ([]nets.Param, error) {
	want := map[string]bool{}
	for _, name := range names {
		want[name] = true
	}
	var params []nets.Param
	for _, prm := range n.Params {
		if names == nil && prm.Kind == nets.Weight || want[prm.Name] {
			if prm.Kind != nets.Weight {
				return nil, fmt.Errorf("backend: %s is a buffer, not a parameter: it cannot be differentiated", prm.Name)
			}
			delete(want, prm.Name)
			params = append(params, prm)
		}
	}
	for _, name := range names {
		if want[name] {
			return nil, fmt.Errorf("backend: model %s has no parameter %s", n.Name, name)
		}
	}
	return params, nil
}

// Differentiator computes derivatives of the mean cross-entropy loss of a
// problem's network over one dataset, batch norm in eval mode, with
// respect to a chosen set of its parameters (buffers stay as they are).
// Vectors are flat float32 slices over those parameters, in the order
// Params gives.
type Differentiator interface {
	// Params lists the differentiated parameters, in vector order; Dim
	// is the vectors' length.
	Params() []nets.Param
	Dim() int
	// Gradient writes the gradient of the loss at the weights θ + αu + βv
	// (at = (α, β)) to grad and returns the loss.
	Gradient(ctx context.Context, at Coord, grad []float32) (float64, error)
	// HVP writes H·v, H the Hessian of the loss at the same weights, to hv,
	// exactly (not a difference of gradients), and returns the loss.
	HVP(ctx context.Context, at Coord, v, hv []float32) (float64, error)
	// Describe says what computes the derivatives.
	Describe() string
	Close() error
}
