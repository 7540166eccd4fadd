package normalize

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/landscape-go/landscape/nets"
)

// ErrDegenerate is wrapped by the errors of [PCA.Fit] and [NewPlane] when
// the models given span fewer dimensions than the two directions need: all
// checkpoints equal or on one line, B equal to A, or C on the line AB.
var ErrDegenerate = errors.New("models do not span a plane")

// PCAOptions chooses what the PCA of a trajectory covers. The zero value
// is the reference's recommended setting: weights mode, biases and batch
// norm ignored.
type PCAOptions struct {
	// Mode selects the entries: the parameters (Weights) or every
	// state-dict entry (States). num_batches_tracked counters are left out
	// in both modes (see [PCA]).
	Mode Mode
	// Ignore is BiasBN to zero every entry of rank ≤ 1 (biases, batch-norm
	// parameters and statistics), as the reference's --ignore biasbn does,
	// or CopyWeights, whose name is "none", to keep their differences like
	// any other entry, as the reference does without --ignore.
	Ignore Ignore
}

// PCA finds the two principal directions of a training trajectory, as the
// reference's setup_PCA_directions does: every checkpoint w_i added with
// [PCA.Add] becomes the row w_i − w_final (rank ≤ 1 entries zeroed under
// [BiasBN]), the rows are centred on their mean, as scikit-learn's PCA
// centres them, and the two leading right singular vectors of the centred
// n×p matrix are the directions.
//
// The final checkpoint itself should be added too, where it falls in the
// training order: its row is zero, and the reference includes it.
//
// The singular vectors are found without a p×p covariance: the n×n Gram
// matrix of the centred rows is accumulated in float64 over blocks of
// columns, its two leading eigenvectors u_k (eigenvalues s_k²) give the
// components as pc_k = Cᵀu_k/s_k, and memory is the n rows as float32 (as
// the reference holds them) plus O(n² + n·block). It suits millions of
// parameters and hundreds of checkpoints.
//
// Signs follow scikit-learn's svd_flip with u_based_decision=True, which
// its PCA used up to release 1.4 (and so the reference): each u_k is
// flipped so that its entry of largest magnitude, the first one on ties,
// is positive. In words: along each component, the checkpoint farthest
// from the mean has a positive centred coordinate. scikit-learn 1.5 and
// later flip on the components instead, which can give opposite signs.
//
// num_batches_tracked counters are never covered. The reference includes
// them in states mode without --ignore, where a counter that grows by the
// number of steps per epoch dominates every parameter and becomes PC1.
type PCA struct {
	entries []entry
	dim     int
	final   []float32
	rows    [][]float32
	// frozen lists the entries the directions leave at the final model's
	// values, finalSD holds those values and frozenDist each row's
	// distance over them.
	frozen     []string
	finalSD    *nets.StateDict
	frozenDist []float64
}

// entry is one state-dict entry's place in a flattened vector. Entries
// with zero set take no place: their direction is zero.
type entry struct {
	name   string
	shape  []int
	off, n int
	zero   bool
}

// isCounter reports whether name is a BN step counter, which directions
// built from checkpoints leave out.
func isCounter(name string) bool { return strings.HasSuffix(name, "num_batches_tracked") }

// layout lays out the entries of net covered in mode, leaving out
// counters, and with ignore non-nil the rank ≤ 1 entries it zeroes.
func layout(net *nets.Net, mode Mode, ignore *Ignore) (entries []entry, dim int) {
	for _, p := range net.Params {
		if (mode == Weights && p.Kind != nets.Weight) || isCounter(p.Name) {
			continue
		}
		e := entry{name: p.Name, shape: p.Shape, n: nets.NumElements(p.Shape)}
		if ignore != nil && *ignore == BiasBN && len(p.Shape) <= 1 {
			e.zero = true
		} else {
			e.off = dim
			dim += e.n
		}
		entries = append(entries, e)
	}
	return entries, dim
}

// flatten copies the laid-out entries of sd into dst, checking that each
// is there with the right number of finite values. what names sd in errors.
func flatten(dst []float32, sd *nets.StateDict, entries []entry, what string) error {
	for _, e := range entries {
		if e.zero {
			continue
		}
		t, ok := sd.Get(e.name)
		switch {
		case !ok:
			return fmt.Errorf("normalize: %s has no %s", what, e.name)
		case len(t.Data) != e.n:
			return fmt.Errorf("normalize: %s: %s has shape %v, want %v", what, e.name, t.Shape, e.shape)
		}
		for i, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("normalize: %s: %s[%d] is %v", what, e.name, i, v)
			}
		}
		copy(dst[e.off:][:e.n], t.Data)
	}
	return nil
}

// unflatten makes a state dict of the entries from a flat float64 vector,
// rounded to float32; zeroed entries get zero tensors.
func unflatten(v []float64, entries []entry) *nets.StateDict {
	sd := &nets.StateDict{}
	for _, e := range entries {
		t := nets.NewTensor(e.shape...)
		if !e.zero {
			for i := range t.Data {
				t.Data[i] = float32(v[e.off+i])
			}
		}
		sd.Set(e.name, t)
	}
	return sd
}

// NewPCA starts the PCA of a trajectory that ends at final. final must
// hold every entry opts covers; net gives the entries and their kinds. If
// opts is nil the zero [PCAOptions] are used.
func NewPCA(net *nets.Net, final *nets.StateDict, opts *PCAOptions) (*PCA, error) {
	if opts == nil {
		opts = &PCAOptions{}
	}
	p := &PCA{}
	ignore := opts.Ignore
	p.entries, p.dim = layout(net, opts.Mode, &ignore)
	if p.dim == 0 {
		return nil, fmt.Errorf("normalize: PCA of %s in %s mode with ignore %s covers no entries", net.Name, opts.Mode, opts.Ignore)
	}
	p.final = make([]float32, p.dim)
	if err := flatten(p.final, final, p.entries, "final checkpoint"); err != nil {
		return nil, err
	}
	covered := map[string]bool{}
	for _, e := range p.entries {
		covered[e.name] = !e.zero
	}
	for _, prm := range net.Params {
		if !covered[prm.Name] && !isCounter(prm.Name) {
			p.frozen = append(p.frozen, prm.Name)
		}
	}
	p.finalSD = final
	return p, nil
}

// Add appends the row w − final, computed in float32 as the reference
// computes it. name identifies w in errors (a file name).
func (p *PCA) Add(w *nets.StateDict, name string) error {
	row := make([]float32, p.dim)
	if err := flatten(row, w, p.entries, name); err != nil {
		return err
	}
	for i, f := range p.final {
		row[i] -= f
	}
	var ss float64
	for _, key := range p.frozen {
		a, okA := w.Get(key)
		b, okB := p.finalSD.Get(key)
		if !okA || !okB || len(a.Data) != len(b.Data) {
			continue
		}
		for i, v := range a.Data {
			d := float64(v) - float64(b.Data[i])
			ss += d * d
		}
	}
	p.rows = append(p.rows, row)
	p.frozenDist = append(p.frozenDist, math.Sqrt(ss))
	return nil
}

// Len returns the number of rows added.
func (p *PCA) Len() int { return len(p.rows) }

// Dim returns the number of values in a row: the scalars the PCA covers.
func (p *PCA) Dim() int { return p.dim }

// PCAResult is the outcome of [PCA.Fit]: the two directions, scikit-learn's
// variance statistics for them, and each row projected on them.
type PCAResult struct {
	// X and Y are the first and second principal components as
	// directions, unit norm and orthogonal (to float32 rounding), keyed by
	// state-dict name; entries zeroed by the options are zero tensors and
	// counters are absent.
	X, Y *nets.StateDict
	// ExplainedVariance is s_k²/(n−1), ExplainedVarianceRatio its share of
	// the total variance, SingularValues s_k: scikit-learn's
	// explained_variance_, explained_variance_ratio_ and singular_values_.
	ExplainedVariance      [2]float64
	ExplainedVarianceRatio [2]float64
	SingularValues         [2]float64
	// TotalVariance is the sum of the variances of all columns, the
	// denominator of the ratios.
	TotalVariance float64
	// Points holds, for each row in the order added, its projection.
	Points []Projection
}

// Projection places one checkpoint w_i in the plane of the components.
type Projection struct {
	// X and Y are ⟨w_i − w_final, pc⟩ for PC1 and PC2 as stored in float32,
	// the reference's "cos" projection: the final model is at (0, 0).
	X, Y float64
	// Residual is ‖(w_i − w_final) − (X·pc1 + Y·pc2)‖, the distance from
	// the checkpoint to its projected point over the covered entries, and
	// Distance is ‖w_i − w_final‖ over the same entries.
	Residual, Distance float64
	// Frozen is ‖w_i − w_final‖ over the entries the directions leave at
	// the final model's values: rank ≤ 1 entries under BiasBN and, in
	// Weights mode, batch-norm running statistics (counters aside). The
	// model at the projected point differs from the checkpoint by
	// √(Residual² + Frozen²), and its loss can differ even with a zero
	// Residual when Frozen is not zero.
	Frozen float64
}

// pcaBlock is the number of columns centred and multiplied at a time.
const pcaBlock = 256

// Fit computes the two principal components of the rows added so far. It
// needs at least three rows and returns an error wrapping [ErrDegenerate]
// if their centred span has fewer than two dimensions.
func (p *PCA) Fit() (*PCAResult, error) {
	n := len(p.rows)
	if n < 3 {
		return nil, fmt.Errorf("normalize: PCA of %d checkpoints: need at least 3 (the final one included) for two components: %w", n, ErrDegenerate)
	}
	gram := p.gram()
	total := 0.0
	for i := range n {
		total += gram.At(i, i)
	}
	var eig mat.EigenSym
	if !eig.Factorize(gram, true) {
		return nil, fmt.Errorf("normalize: PCA of %d checkpoints: eigendecomposition of the Gram matrix failed", n)
	}
	values := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	l1, l2 := values[n-1], values[n-2]
	switch {
	case !(l1 > 0):
		return nil, fmt.Errorf("normalize: PCA: all %d checkpoints are equal over the %d covered values: %w", n, p.dim, ErrDegenerate)
	case !(l2 > 1e-12*l1):
		return nil, fmt.Errorf("normalize: PCA: the %d checkpoints lie on a line (second singular value %.3g, first %.3g): %w",
			n, math.Sqrt(max(l2, 0)), math.Sqrt(l1), ErrDegenerate)
	}
	res := &PCAResult{TotalVariance: total / float64(n-1)}
	u := make([][]float64, 2)
	for k, col := range []int{n - 1, n - 2} {
		u[k] = mat.Col(nil, col, &vecs)
		flipU(u[k])
		s := math.Sqrt(values[col])
		res.SingularValues[k] = s
		res.ExplainedVariance[k] = values[col] / float64(n-1)
		res.ExplainedVarianceRatio[k] = values[col] / total
		u[k] = scaled(u[k], 1/s)
	}
	pcs := p.components(u)
	res.X, res.Y = unflatten(pcs[0], p.entries), unflatten(pcs[1], p.entries)
	res.Points = p.project(pcs)
	return res, nil
}

// flipU negates u if its entry of largest magnitude (the first on ties) is
// negative: svd_flip with u_based_decision=True.
func flipU(u []float64) {
	best := 0
	for i, v := range u {
		if math.Abs(v) > math.Abs(u[best]) {
			best = i
		}
	}
	if u[best] < 0 {
		for i := range u {
			u[i] = -u[i]
		}
	}
}

func scaled(x []float64, a float64) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * a
	}
	return out
}

// stripes splits the columns into at most 8 ranges of whole blocks, each
// handled by one goroutine; their partial results are combined in stripe
// order, so results do not depend on the number of cores.
func (p *PCA) stripes() [][2]int {
	blocks := (p.dim + pcaBlock - 1) / pcaBlock
	k := min(8, blocks)
	var s [][2]int
	for i := range k {
		lo, hi := blocks*i/k*pcaBlock, min(blocks*(i+1)/k*pcaBlock, p.dim)
		s = append(s, [2]int{lo, hi})
	}
	return s
}

// centred fills b (n × (hi−lo), row-major) with columns [lo, hi) of the
// rows minus their column means, in float64.
func (p *PCA) centred(b []float64, lo, hi int) {
	w := hi - lo
	m := make([]float64, w)
	for _, r := range p.rows {
		for c, v := range r[lo:hi] {
			m[c] += float64(v)
		}
	}
	for c := range m {
		m[c] /= float64(len(p.rows))
	}
	for i, r := range p.rows {
		dst := b[i*w:][:w]
		for c, v := range r[lo:hi] {
			dst[c] = float64(v) - m[c]
		}
	}
}

// gram returns C·Cᵀ for the centred rows C.
func (p *PCA) gram() *mat.SymDense {
	n := len(p.rows)
	stripes := p.stripes()
	partial := make([][]float64, len(stripes))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for s, st := range stripes {
		g.Go(func() error {
			acc := blas64.Symmetric{Uplo: blas.Upper, N: n, Stride: n, Data: make([]float64, n*n)}
			b := make([]float64, n*pcaBlock)
			for lo := st[0]; lo < st[1]; lo += pcaBlock {
				hi := min(lo+pcaBlock, st[1])
				p.centred(b, lo, hi)
				blas64.Syrk(blas.NoTrans, 1, blas64.General{Rows: n, Cols: hi - lo, Stride: hi - lo, Data: b}, 1, acc)
			}
			partial[s] = acc.Data
			return nil
		})
	}
	g.Wait()
	sum := make([]float64, n*n)
	for _, part := range partial {
		for i := range n {
			for j := i; j < n; j++ {
				sum[i*n+j] += part[i*n+j]
			}
		}
	}
	return mat.NewSymDense(n, sum)
}

// components returns Cᵀw_k for each w_k (u_k/s_k), normalised to unit
// length in float64.
func (p *PCA) components(w [][]float64) [][]float64 {
	n := len(p.rows)
	pcs := make([][]float64, len(w))
	for k := range pcs {
		pcs[k] = make([]float64, p.dim)
	}
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for _, st := range p.stripes() {
		g.Go(func() error {
			b := make([]float64, n*pcaBlock)
			for lo := st[0]; lo < st[1]; lo += pcaBlock {
				hi := min(lo+pcaBlock, st[1])
				p.centred(b, lo, hi)
				width := hi - lo
				for k := range w {
					dst := pcs[k][lo:hi]
					for i, wi := range w[k] {
						row := b[i*width:][:width]
						for c, v := range row {
							dst[c] += v * wi
						}
					}
				}
			}
			return nil
		})
	}
	g.Wait()
	for _, pc := range pcs {
		var ss float64
		for _, v := range pc {
			ss += v * v
		}
		inv := 1 / math.Sqrt(ss)
		for i := range pc {
			pc[i] *= inv
		}
	}
	return pcs
}

// project projects every row on the components as rounded to float32.
func (p *PCA) project(pcs [][]float64) []Projection {
	pc1, pc2 := rounded(pcs[0]), rounded(pcs[1])
	out := make([]Projection, len(p.rows))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, r := range p.rows {
		g.Go(func() error {
			out[i] = projectRow(r, pc1, pc2)
			out[i].Frozen = p.frozenDist[i]
			return nil
		})
	}
	g.Wait()
	return out
}

// rounded returns v rounded to float32 and widened back.
func rounded(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(float32(x))
	}
	return out
}

// projectRow projects d on the orthonormal u, v.
func projectRow[T float32 | float64](d []T, u, v []float64) Projection {
	var x, y, dd float64
	for c, di := range d {
		f := float64(di)
		x += f * u[c]
		y += f * v[c]
		dd += f * f
	}
	var rr float64
	for c, di := range d {
		r := float64(di) - x*u[c] - y*v[c]
		rr += r * r
	}
	return Projection{X: x, Y: y, Residual: math.Sqrt(rr), Distance: math.Sqrt(dd)}
}
