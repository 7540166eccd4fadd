package onnx

import (
	"fmt"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/internal/clip"
	"github.com/landscape-go/landscape/nets"
)

// ReferenceNet describes g for the reference evaluator, for a graph the
// engines cannot run (see [Graph.Net]): a network without ops whose
// Forward runs g with [Graph.Run]. Its parameters are those of
// [Graph.Weights], in their order, under their names; the running
// statistics of batch norms are buffers, every other float initializer a
// learnable parameter, and each batch norm whose scale is named
// prefix.weight gets a prefix.num_batches_tracked buffer, which exports
// drop, so that PyTorch checkpoints fit. The input geometry is as for
// [Graph.Net]; the classes are the output's last dimension, found by
// running the graph once on zeros, which also shows that it runs.
//
// A final Softmax over the classes is taken off (see [Graph.Logits]).
//
// A graph whose export fixed the batch is fed batches of that size, the
// last one padded. A language model (token ids N x T in, logits
// N x T x vocabulary out; cfg.Seq set) is fed the ids as the integers its
// input declares, and its Forward returns a row of logits per position:
// n·T rows of the vocabulary's size.
func (g *Graph) ReferenceNet(name string, cfg nets.Config) (*nets.Net, error) {
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("onnx: graph %q: %w", g.Name, err)
	}
	feed, cfg, err := g.Feed(cfg)
	if err != nil {
		return nil, err
	}
	g, _ = g.Logits()
	if len(g.Outputs) != 1 {
		var names []string
		for _, v := range g.Outputs {
			names = append(names, v.Name)
		}
		return nil, fmt.Errorf("onnx: graph %q has %d outputs (%s); a loss landscape takes one, the logits: "+
			"name it in the export (output_names=[\"logits\", ...]) or export a wrapper that returns the logits alone: %w",
			g.Name, len(g.Outputs), strings.Join(names, ", "), ErrUnsupported)
	}
	buffers, counters := map[string]bool{}, map[string]string{}
	for _, n := range g.Nodes {
		if n.OpType == "BatchNormalization" && len(n.Inputs) == 5 {
			buffers[n.Inputs[3]], buffers[n.Inputs[4]] = true, true
			if prefix, ok := strings.CutSuffix(n.Inputs[1], ".weight"); ok {
				counters[n.Inputs[4]] = prefix + ".num_batches_tracked"
			}
		}
	}
	weights := &nets.StateDict{}
	var lost []string
	all := g.Weights()
	for _, k := range all.Names() {
		t, _ := all.Get(k)
		switch {
		case !exporterNamed(k):
			weights.Set(k, t)
		case len(t.Shape) > 0:
			lost = append(lost, k)
		}
		// A scalar the exporter named is a constant of the graph (a scale
		// in attention, say), not a parameter: it stays as it is.
	}
	if len(lost) > 0 {
		return nil, fmt.Errorf("onnx: graph %q: weights %s have lost their PyTorch names: the export folded or renamed parameters; export with %s: %w",
			g.Name, clip.Join(lost), ExportAdvice, ErrUnsupported)
	}
	net := &nets.Net{Name: name, Config: cfg, Graph: g}
	for _, k := range weights.Names() {
		t, _ := weights.Get(k)
		kind := nets.Weight
		if buffers[k] {
			kind = nets.Buffer
		}
		net.Params = append(net.Params, nets.Param{Name: k, Shape: slices.Clone(t.Shape), Kind: kind})
		if c, ok := counters[k]; ok {
			net.Params = append(net.Params, nets.Param{Name: c, Kind: nets.Buffer})
		}
	}
	shape := append([]int{0}, feed.Sample...)
	per := nets.NumElements(feed.Sample)
	rows := cfg.Targets()
	run := func(x []float32, n int, w *nets.StateDict, k *nets.Kernels) ([]float32, int, error) {
		b := n
		if feed.Batch > 0 {
			b = feed.Batch
		}
		var out []float32
		classes := 0
		for lo := 0; lo < n; lo += b {
			m := min(b, n-lo)
			sh := slices.Clone(shape)
			sh[0] = b
			var batchIn *Tensor
			if cfg.Seq > 0 {
				// Token ids, exact in the float32 values the data holds
				// (data.Load checks they are below 2^24).
				ids := make([]int64, b*per)
				for i, v := range x[lo*per : (lo+m)*per] {
					ids[i] = int64(v)
				}
				batchIn = &Tensor{DType: feed.DType, Shape: sh, I: ids}
			} else {
				f := make([]float32, b*per)
				copy(f, x[lo*per:(lo+m)*per])
				batchIn = Floats(sh, f)
			}
			res, err := g.RunWith(map[string]*Tensor{feed.Input: batchIn}, w, k)
			if err != nil {
				return nil, 0, err
			}
			y := res[g.Outputs[0].Name]
			if len(y.Shape) < 2 || y.Shape[0] != b || !y.DType.IsFloat() || y.Len() != b*rows*y.Shape[len(y.Shape)-1] ||
				cfg.Seq > 0 && (len(y.Shape) != 3 || y.Shape[1] != cfg.Seq) {
				want := fmt.Sprintf("logits %d x classes", b)
				if cfg.Seq > 0 {
					want = fmt.Sprintf("next-token logits %d x %d x vocabulary", b, cfg.Seq)
				}
				return nil, 0, fmt.Errorf("onnx: graph %q gives %v %v, not %s: %w", g.Name, y.DType, y.Shape, want, ErrUnsupported)
			}
			classes = y.Shape[len(y.Shape)-1]
			out = append(out, y.F[:m*rows*classes]...)
		}
		return out, classes, nil
	}
	known := func(w *nets.StateDict) *nets.StateDict {
		sd := &nets.StateDict{}
		for _, k := range w.Names() {
			if _, ok := weights.Get(k); ok {
				t, _ := w.Get(k)
				sd.Set(k, t)
			}
		}
		return sd
	}
	_, classes, err := run(make([]float32, per), 1, nil, nil)
	if err != nil {
		return nil, err
	}
	net.Config.Classes = classes
	net.Forward = func(x []float32, n int, w *nets.StateDict, k *nets.Kernels) ([]float32, error) {
		out, _, err := run(x, n, known(w), k)
		return out, err
	}
	return net, nil
}
