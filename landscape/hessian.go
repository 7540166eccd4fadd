package landscape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/curvature"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
)

// HessianParams selects the parameters whose Hessian is analysed.
type HessianParams int

const (
	// Rank2Params takes every parameter tensor of rank > 1 (convolution
	// and linear weights): the reference's choice (plot_hessian_eigen.py
	// with its defaults), which leaves out biases and batch norm.
	Rank2Params HessianParams = iota
	// AllParams takes every learnable parameter, as PyHessian does.
	AllParams
)

var hessianParamsNames = [...]string{"rank2", "all"}

func (p HessianParams) String() string {
	if int(p) < len(hessianParamsNames) {
		return hessianParamsNames[p]
	}
	return fmt.Sprintf("HessianParams(%d)", int(p))
}

// ParseHessianParams parses "rank2" or "all".
func ParseHessianParams(s string) (HessianParams, error) {
	if i := slices.Index(hessianParamsNames[:], s); i >= 0 {
		return HessianParams(i), nil
	}
	return 0, fmt.Errorf("landscape: parameters %q: want rank2 (weights of rank > 1, the reference's) or all", s)
}

// Source is a network at a checkpoint and the split of data its loss is
// taken over: what [Hessian] and [Train] work on.
type Source struct {
	Model       string
	ModelConfig nets.Config
	// Checkpoint is the weights file; for an ONNX model it defaults to
	// the model file.
	Checkpoint  string
	Data        data.Spec
	Split       string // train (the default) or test
	DataOptions data.Options
}

// load loads the split and the checkpoint, checked as [LoadWeights]
// checks it.
func (s Source) load() (*data.Dataset, *Weights, error) {
	sets, mc, err := loadSets(s.Data, []string{s.split()}, &s.DataOptions, s.ModelConfig)
	if err != nil {
		return nil, nil, err
	}
	w, err := LoadWeights(CheckpointFor(s.Model, s.Checkpoint), s.Model, mc)
	return sets[0], w, fits(w, err, sets[0], s.Data, s.ModelConfig)
}

// Initialise returns the source's zoo model at PyTorch's default
// initialisation drawn from seed (see [nets.Net.Initialise]), shaped for
// the source's data where its ModelConfig leaves the input's shape or the
// classes open: the start of training from scratch. The Checkpoint is not
// read.
func (s Source) Initialise(seed uint64) (*nets.StateDict, error) {
	if IsONNX(s.Model) {
		return nil, fmt.Errorf("landscape: %s is an ONNX model, whose file holds its initial weights", s.Model)
	}
	sets, mc, err := loadSets(s.Data, []string{s.split()}, &s.DataOptions, s.ModelConfig)
	if err != nil {
		return nil, err
	}
	if mc.Classes == 0 {
		mc.Classes = sets[0].Classes
	}
	net, err := nets.New(s.Model, mc)
	if err != nil {
		return nil, err
	}
	return net.Initialise(seed)
}

// split returns the source's split, train if none is given.
func (s Source) split() string {
	if s.Split == "" {
		return "train"
	}
	return s.Split
}

// HessianSpec says whose Hessian to analyse and how: that of the mean
// cross-entropy loss of the source's network over its data (batch norm in
// eval mode), with respect to the parameters Params selects.
type HessianSpec struct {
	Source
	Params HessianParams

	// Top is the number of largest eigenvalues to find (0 means 1); the
	// smallest is found with the largest, in the same Lanczos run.
	Top int
	// TraceSamples caps Hutchinson's samples (0 means 50); the estimate
	// stops early once its standard error is 1% of it.
	TraceSamples int
	// DensityRuns and DensitySteps shape the stochastic Lanczos
	// quadrature (0 means 1 run of 80 steps); a negative DensityRuns
	// skips the density.
	DensityRuns, DensitySteps int
	// PerLayer adds, for every selected tensor alone, its block's top
	// eigenvalue and trace (costly: two estimates per tensor).
	PerLayer bool
	// Tol is the eigenvalues' relative residual (0 means 1e-4: the
	// Hessian-vector products are float32, good to about 1e-6).
	Tol float64
	// Seed seeds the random start and probe vectors.
	Seed uint64
	// Directions, if set, is a direction file to write the top two
	// eigenvectors to, as x and y (unit norm over the selected parameters,
	// the others not moved): the "Hessian plane", with a suggested grid
	// over which the quadratic model rises by about 2 (--x=auto).
	Directions string
	// BatchSize is the samples per chunk (0 means 32).
	BatchSize int
}

// HessianReport is what [Hessian] finds; it is written as hessian.json.
type HessianReport struct {
	Tool       string            `json:"tool"`
	Version    string            `json:"version"`
	Created    string            `json:"created"`
	Model      surface.ModelInfo `json:"model"`
	Checkpoint surface.FileInfo  `json:"checkpoint"`
	Data       surface.DataInfo  `json:"data"`
	// Params says which parameters count, and Tensors lists them; Dim is
	// the number of scalars, the Hessian's size.
	Params  string   `json:"params"`
	Tensors []string `json:"tensors"`
	Dim     int      `json:"dim"`
	// Loss is the mean loss and GradNorm the gradient's norm at the
	// checkpoint, over the selected parameters.
	Loss     float64 `json:"loss"`
	GradNorm float64 `json:"grad_norm"`
	// Top holds the largest eigenvalues, largest first; Min the smallest
	// and Ratio |Min/Top[0]|, the paper's measure of non-convexity.
	Top   []float64 `json:"top"`
	Min   float64   `json:"min"`
	Ratio float64   `json:"ratio"`
	// Trace is Hutchinson's estimate with its standard error.
	Trace       float64 `json:"trace"`
	TraceStdErr float64 `json:"trace_stderr"`
	TraceSample int     `json:"trace_samples"`
	// Density is the eigenvalue density by stochastic Lanczos quadrature,
	// broadened as PyHessian's density_generate, on a grid.
	Density *Density `json:"density,omitempty"`
	// Layers holds per-tensor figures with PerLayer.
	Layers []LayerCurvature `json:"layers,omitempty"`
	// Warnings says which eigenvalues did not reach their tolerance within
	// the iterations allowed: they are the best estimates found.
	Warnings []string `json:"warnings,omitempty"`
	// HVPs counts the Hessian-vector products, each over all the data.
	HVPs        int     `json:"hvps"`
	Device      string  `json:"device"`
	WallSeconds float64 `json:"wall_seconds"`

	vectors []curvature.Pair // the top eigenpairs, for the Hessian plane
}

// Density is a spectral density on a grid, and the quadrature it comes
// from.
type Density struct {
	X       []float64   `json:"x"`
	Rho     []float64   `json:"rho"`
	Nodes   [][]float64 `json:"nodes"`
	Weights [][]float64 `json:"weights"`
}

// LayerCurvature is the curvature of one parameter tensor's block of the
// Hessian.
type LayerCurvature struct {
	Name        string  `json:"name"`
	Dim         int     `json:"dim"`
	Top         float64 `json:"top"`
	Trace       float64 `json:"trace"`
	TraceStdErr float64 `json:"trace_stderr"`
}

// Hessian analyses the Hessian of spec's loss on opts.Device (the CPU, a
// GPU, or auto): its extreme eigenvalues by Lanczos with full
// reorthogonalisation (one run gives both ends; more of the top with
// spec.Top > 1), its trace by Hutchinson's estimator, its eigenvalue
// density by stochastic Lanczos quadrature, and with PerLayer each
// tensor's block. opts.Log and opts.Progress report as for a surface.
func Hessian(ctx context.Context, spec HessianSpec, opts *Options) (*HessianReport, error) {
	start := time.Now()
	if opts == nil {
		opts = &Options{}
	}
	set, w, err := spec.load()
	if err != nil {
		return nil, err
	}
	sets := []*data.Dataset{set}
	names := hessianParams(w.Net, spec.Params)
	prob := &backend.Problem{Net: w.Net, Center: w.State, BatchSize: spec.BatchSize, Data: []*backend.Data{backendData(w.Net, sets[0])}}
	diff, err := newDifferentiator(prob, names, opts.Device, opts.logf)
	if err != nil {
		return nil, err
	}
	defer diff.Close()
	in := &Input{Net: w.Net, Data: sets}
	prov := provenance(in)
	prov.Data.Path, prov.Data.SampleSeed = spec.Data.Path, spec.DataOptions.SampleSeed
	rep := &HessianReport{
		Tool: "landscape", Version: Version, Created: start.UTC().Format(time.RFC3339),
		Model: prov.Model, Checkpoint: w.File, Data: prov.Data,
		Params: spec.Params.String(), Tensors: names, Dim: diff.Dim(), Device: diff.Describe(),
	}
	opts.logf("hessian: %s, %d tensors (%s), %d parameters, %d samples; %s", w.Net.Name, len(names), spec.Params, rep.Dim, sets[0].N, rep.Device)
	op := &hessianOperator{d: diff, log: opts.logf}
	grad := make([]float32, diff.Dim())
	if rep.Loss, err = diff.Gradient(ctx, backend.Coord{}, grad); err != nil {
		return nil, err
	}
	rep.GradNorm = norm32(grad)
	if chance := math.Log(float64(w.Net.Config.Classes)); w.Net.Config.Seq == 0 && rep.Loss >= 0.9*chance {
		// A loss near or past guessing's: the curvature of a network that
		// does not classify its data (normalised otherwise than in
		// training, or the wrong checkpoint) says little.
		msg := fmt.Sprintf("the loss on the %s data, %.4g, is near or past chance's, ln %d = %.4g: is the data normalised as in training (--mean, --std), and is it the right checkpoint?",
			sets[0].Split, rep.Loss, w.Net.Config.Classes, chance)
		rep.Warnings = append(rep.Warnings, msg)
		opts.warnf("%s", msg)
	}
	if err := hessianFigures(ctx, spec, op, diff.Dim(), rep); err != nil {
		return rep, err
	}
	if spec.Directions != "" {
		if err := writeHessianPlane(spec.Directions, rep, spec.Params, w, diff.Params()); err != nil {
			return rep, err
		}
	}
	if spec.PerLayer {
		off := 0
		for _, p := range diff.Params() {
			n := nets.NumElements(p.Shape)
			block := &blockOperator{op: op, off: off, n: n}
			l, err := layerCurvature(ctx, spec, block, rep)
			if err != nil {
				return rep, fmt.Errorf("landscape: hessian of %s: %w", p.Name, err)
			}
			l.Name, l.Dim = p.Name, n
			rep.Layers = append(rep.Layers, l)
			opts.logf("hessian: %s: top %.6g, trace %.6g ± %.2g", p.Name, l.Top, l.Trace, l.TraceStdErr)
			off += n
		}
	}
	rep.HVPs = op.applies
	rep.WallSeconds = time.Since(start).Seconds()
	return rep, nil
}

// HessianFile is the name of the report [HessianReport.Write] writes.
const HessianFile = "hessian.json"

// Write writes the report to dir, created if missing, as hessian.json and,
// with a density, its figure density.FORMAT in each format; it returns
// the files written.
func (r *HessianReport) Write(dir string, formats []string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, HessianFile)
	if err := writeJSON(file, r); err != nil {
		return nil, err
	}
	written := []string{file}
	if r.Density == nil || len(formats) == 0 {
		return written, nil
	}
	caption := []string{fmt.Sprintf("%s at %s: %d parameters (%s), %d samples of %s; λmax %.4g, λmin %.4g, trace %.4g ± %.2g",
		r.Model.Name, filepath.Base(r.Checkpoint.Path), r.Dim, r.Params, r.Data.Samples[0], r.Data.Splits[0], r.Top[0], r.Min, r.Trace, r.TraceStdErr)}
	curves := []export.DensityCurve{{Label: r.Model.Name, X: r.Density.X, Rho: r.Density.Rho}}
	figs, err := export.WriteDensityPlots(dir, "density", curves, caption, formats, nil)
	return append(written, figs...), err
}

// unconverged turns an eigen-solver's ErrNotConverged into a warning in
// r when its result still holds the k pairs wanted: a long computation's
// best estimates, flagged, are worth more than an error.
func (r *HessianReport) unconverged(err error, res *curvature.Result, k int) error {
	if errors.Is(err, curvature.ErrNotConverged) && res != nil && len(res.Pairs) >= k {
		r.Warnings = append(r.Warnings, err.Error())
		return nil
	}
	return err
}

// writeHessianPlane writes the top two eigenvectors of rep to path as a
// direction file: x and y over params (those which selects), in their
// order.
func writeHessianPlane(path string, rep *HessianReport, which HessianParams, w *Weights, params []nets.Param) error {
	x, y := &nets.StateDict{}, &nets.StateDict{}
	off := 0
	for _, p := range params {
		n := nets.NumElements(p.Shape)
		for i, sd := range []*nets.StateDict{x, y} {
			t := nets.NewTensor(p.Shape...)
			for j := range t.Data {
				t.Data[j] = float32(rep.vectors[i].Vector[off+j])
			}
			sd.Set(p.Name, t)
		}
		off += n
	}
	// Over a grid of ±2·√(2/λ1) the quadratic model ½·λ1·α² rises by 4
	// along x: the region where the plane's picture is interesting.
	l1, l2 := rep.vectors[0].Value, rep.vectors[1].Value
	span := func(l float64) float64 {
		v := 2 * math.Sqrt(2/math.Max(math.Abs(l), 1e-12))
		p := math.Pow(10, math.Floor(math.Log10(v))-1) // two significant digits
		return math.Ceil(v/p) * p
	}
	sx, sy := span(l1), span(math.Max(l2, l1/100))
	ignore := normalize.BiasBN // rank2: the rank ≤ 1 tensors do not move
	if which == AllParams {
		ignore = normalize.CopyWeights // "none": every parameter moves
	}
	meta := normalize.Meta{
		Kind: "hessian", Model: w.Net.Name, Checkpoint: w.File.Path, CheckpointSHA256: w.File.SHA256,
		Norm: "none", Ignore: ignore.String(), Mode: "weights", SHA256: normalize.Hash(x, y),
		SuggestedX:  grid.Axis{Min: -sx, Max: sx, Num: 51}.String(),
		SuggestedY:  grid.Axis{Min: -sy, Max: sy, Num: 51}.String(),
		Eigenvalues: []float64{l1, l2},
	}
	return normalize.WriteFile(path, x, y, meta)
}

// WriteSummary writes the report's figures for people.
func (r *HessianReport) WriteSummary(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s at %s: loss %.6g, gradient norm %.4g, over %d parameters (%s)\n", r.Model.Name, r.Checkpoint.Path, r.Loss, r.GradNorm, r.Dim, r.Params)
	fmt.Fprintf(&b, "  λmax %.6g, λmin %.6g, |λmin/λmax| %.4g\n", r.Top[0], r.Min, r.Ratio)
	if len(r.Top) > 1 {
		fmt.Fprintf(&b, "  top %d eigenvalues: %.6g\n", len(r.Top), r.Top)
	}
	fmt.Fprintf(&b, "  trace %.6g ± %.2g (%d samples)\n", r.Trace, r.TraceStdErr, r.TraceSample)
	for _, l := range r.Layers {
		fmt.Fprintf(&b, "  %-30s λmax %.5g, trace %.5g ± %.2g\n", l.Name, l.Top, l.Trace, l.TraceStdErr)
	}
	fmt.Fprintf(&b, "  %d Hessian-vector products in %.1fs on %s\n", r.HVPs, r.WallSeconds, r.Device)
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ReadHessianReport reads a hessian.json written by [HessianReport.Write].
func ReadHessianReport(path string) (*HessianReport, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r HessianReport
	if err := json.Unmarshal(b, &r); err != nil || r.Tool != "landscape" || len(r.Top) == 0 {
		return nil, fmt.Errorf("landscape: %s is not a report of 'landscape hessian' (hessian.json)", path)
	}
	return &r, nil
}

// CompareHessians writes, side by side, the curvature of several
// networks (the paper's comparison: the same net with and without skip
// connections) to the folder out: their eigenvalue densities on one
// figure, hessian_density.FORMAT, and a Markdown table of λmax, λmin,
// |λmin/λmax| and the trace, hessian.md. It returns the same table as
// plain text aligned in columns, for a terminal. Labels name the reports.
func CompareHessians(out string, reps []*HessianReport, labels, formats []string) (table string, written []string, err error) {
	rows := [][]string{{"network", "parameters", "λmax", "λmin", "|λmin/λmax|", "trace"}}
	var curves []export.DensityCurve
	for i, r := range reps {
		rows = append(rows, []string{labels[i], fmt.Sprintf("%d (%s)", r.Dim, r.Params), fmt.Sprintf("%.5g", r.Top[0]), fmt.Sprintf("%.5g", r.Min),
			fmt.Sprintf("%.4g", r.Ratio), fmt.Sprintf("%.5g ± %.2g", r.Trace, r.TraceStdErr)})
		if r.Density != nil {
			curves = append(curves, export.DensityCurve{Label: labels[i], X: r.Density.X, Rho: r.Density.Rho})
		}
	}
	var md, text strings.Builder
	tw := tabwriter.NewWriter(&text, 0, 0, 2, ' ', 0)
	for i, row := range rows {
		md.WriteString("|")
		for _, c := range row {
			md.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		md.WriteString("\n")
		if i == 0 {
			md.WriteString("|---|---|---|---|---|---|\n")
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	tw.Flush() // into a strings.Builder, which takes every write
	if err := os.MkdirAll(out, 0o755); err != nil {
		return "", nil, err
	}
	file := filepath.Join(out, "hessian.md")
	if err := atomicfile.Write(file, func(w io.Writer) error { _, err := io.WriteString(w, md.String()); return err }); err != nil {
		return "", nil, err
	}
	written = append(written, file)
	if len(curves) > 0 && len(formats) > 0 {
		figs, err := export.WriteDensityPlots(out, "hessian_density", curves, nil, formats, nil)
		written = append(written, figs...)
		if err != nil {
			return text.String(), written, err
		}
	}
	return text.String(), written, nil
}

// hessianFigures finds the eigenvalues, trace and density of op.
func hessianFigures(ctx context.Context, spec HessianSpec, op curvature.Operator, dim int, rep *HessianReport) error {
	tol := spec.Tol
	if tol == 0 {
		tol = 1e-4
	}
	eo := &curvature.Options{Tol: tol, Seed: spec.Seed, MaxIter: min(dim, 300)}
	ext, err := curvature.Extremes(ctx, op, eo)
	if err = rep.unconverged(err, ext, 2); err != nil {
		return fmt.Errorf("landscape: hessian eigenvalues: %w", err)
	}
	rep.Min, rep.Top = ext.Pairs[0].Value, []float64{ext.Pairs[1].Value}
	if spec.Top > 1 || spec.Directions != "" {
		k := max(spec.Top, 1)
		if spec.Directions != "" {
			k = max(k, 2)
		}
		top, err := curvature.Eigs(ctx, op, k, curvature.Largest, eo)
		if err = rep.unconverged(err, top, k); err != nil {
			return fmt.Errorf("landscape: hessian top %d eigenvalues: %w", k, err)
		}
		rep.Top = rep.Top[:0]
		for _, p := range top.Pairs[:max(spec.Top, 1)] {
			rep.Top = append(rep.Top, p.Value)
		}
		rep.vectors = top.Pairs
	}
	rep.Ratio = math.Abs(rep.Min / rep.Top[0])
	samples := spec.TraceSamples
	if samples == 0 {
		samples = 50
	}
	tr, err := curvature.Trace(ctx, op, &curvature.TraceOptions{MaxSamples: samples, MinSamples: min(10, samples), Tol: 0.01, Seed: spec.Seed + 1})
	if err != nil {
		return fmt.Errorf("landscape: hessian trace: %w", err)
	}
	rep.Trace, rep.TraceStdErr, rep.TraceSample = tr.Mean, tr.StdErr, tr.Samples
	if !(tr.StdErr <= 0.01*math.Abs(tr.Mean)) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the trace's standard error, %.2g (%.1f%% of it), is above the 1%% target after its %d Hutchinson samples (--trace-samples sets the most)",
			tr.StdErr, 100*tr.StdErr/math.Abs(tr.Mean), tr.Samples))
	}
	if spec.DensityRuns < 0 {
		return nil
	}
	runs, steps := max(spec.DensityRuns, 1), spec.DensitySteps
	if steps == 0 {
		steps = 80
	}
	sp, err := curvature.SLQ(ctx, op, &curvature.DensityOptions{Runs: runs, Steps: steps, Seed: spec.Seed + 2})
	if err != nil {
		return fmt.Errorf("landscape: hessian density: %w", err)
	}
	x, rho := sp.Density(nil) // PyHessian's grid: 10000 points, σ² = 1e-5 of the span
	rep.Density = &Density{X: x, Rho: rho, Nodes: sp.Nodes, Weights: sp.Weights}
	return nil
}

// layerCurvature finds one block's top eigenvalue and trace.
func layerCurvature(ctx context.Context, spec HessianSpec, op curvature.Operator, rep *HessianReport) (LayerCurvature, error) {
	top, err := curvature.Eigs(ctx, op, 1, curvature.Largest, &curvature.Options{Tol: 1e-3, Seed: spec.Seed, MaxIter: min(op.Dim(), 100)})
	if err = rep.unconverged(err, top, 1); err != nil {
		return LayerCurvature{}, err
	}
	// A small block's trace is exact from its diagonal, in no more
	// products than Hutchinson's samples; a large one's standard error is
	// trusted after 10 samples, not fewer: from 2 to 5 it is itself too
	// noisy to stop on, stopping where it happens to be small.
	const samples = 20
	var tr curvature.TraceEstimate
	if op.Dim() <= samples {
		tr, err = curvature.ExactTrace(ctx, op)
	} else {
		tr, err = curvature.Trace(ctx, op, &curvature.TraceOptions{MaxSamples: samples, MinSamples: 10, Tol: 0.02, Seed: spec.Seed + 1})
	}
	if err != nil {
		return LayerCurvature{}, err
	}
	return LayerCurvature{Top: top.Pairs[0].Value, Trace: tr.Mean, TraceStdErr: tr.StdErr}, nil
}

// hessianOperator is the Hessian of a differentiator at the point at (the
// centre, for a checkpoint's analysis) as a curvature.Operator over
// float64 vectors.
type hessianOperator struct {
	d       backend.Differentiator
	at      backend.Coord
	v, hv   []float32
	applies int
	log     func(string, ...any)
}

func (o *hessianOperator) Dim() int { return o.d.Dim() }

func (o *hessianOperator) Apply(ctx context.Context, dst, v []float64) error {
	if o.v == nil {
		o.v, o.hv = make([]float32, o.d.Dim()), make([]float32, o.d.Dim())
	}
	for i, x := range v {
		o.v[i] = float32(x)
	}
	if _, err := o.d.HVP(ctx, o.at, o.v, o.hv); err != nil {
		return err
	}
	for i, x := range o.hv {
		dst[i] = float64(x)
	}
	o.applies++
	if o.applies%25 == 0 {
		o.log("hessian: %d Hessian-vector products", o.applies)
	}
	return nil
}

// blockOperator is the diagonal block of a Hessian for entries
// [off, off+n) of its vectors.
type blockOperator struct {
	op     *hessianOperator
	off, n int
	v, hv  []float64
}

func (b *blockOperator) Dim() int { return b.n }

func (b *blockOperator) Apply(ctx context.Context, dst, v []float64) error {
	if b.v == nil {
		b.v, b.hv = make([]float64, b.op.Dim()), make([]float64, b.op.Dim())
	}
	copy(b.v[b.off:b.off+b.n], v)
	if err := b.op.Apply(ctx, b.hv, b.v); err != nil {
		return err
	}
	copy(dst, b.hv[b.off:b.off+b.n])
	return nil
}

func norm32(x []float32) float64 {
	s := 0.0
	for _, a := range x {
		s += float64(a) * float64(a)
	}
	return math.Sqrt(s)
}
