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
// A graph whose export fixed the batch is fed batches of that size, the
// last one padded.
func (g *Graph) ReferenceNet(name string, cfg nets.Config) (*nets.Net, error) {
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("onnx: graph %q: %w", g.Name, err)
	}
	in, cfg, batch, err := g.imageInput(cfg)
	if err != nil {
		return nil, err
	}
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("onnx: graph %q has %d outputs; a loss landscape takes one, the logits: %w", g.Name, len(g.Outputs), ErrUnsupported)
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
	net := &nets.Net{Name: name, Config: cfg}
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
	shape := []int{0, cfg.InChannels, cfg.Height, cfg.Width}
	if len(in.Shape) == 2 {
		shape = shape[:2]
	}
	per := cfg.InChannels * cfg.Height * cfg.Width
	run := func(x []float32, n int, w *nets.StateDict) ([]float32, int, error) {
		b := n
		if batch > 0 {
			b = batch
		}
		var out []float32
		classes := 0
		for lo := 0; lo < n; lo += b {
			m := min(b, n-lo)
			feed := make([]float32, b*per)
			copy(feed, x[lo*per:(lo+m)*per])
			sh := slices.Clone(shape)
			sh[0] = b
			res, err := g.Run(map[string]*Tensor{in.Name: Floats(sh, feed)}, w)
			if err != nil {
				return nil, 0, err
			}
			y := res[g.Outputs[0].Name]
			if len(y.Shape) < 2 || y.Shape[0] != b || !y.DType.IsFloat() || y.Len() != b*y.Shape[len(y.Shape)-1] {
				return nil, 0, fmt.Errorf("onnx: graph %q gives %v %v, not logits %d x classes: %w", g.Name, y.DType, y.Shape, b, ErrUnsupported)
			}
			classes = y.Shape[len(y.Shape)-1]
			out = append(out, y.F[:m*classes]...)
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
	_, classes, err := run(make([]float32, per), 1, nil)
	if err != nil {
		return nil, err
	}
	net.Config.Classes = classes
	net.Forward = func(x []float32, n int, w *nets.StateDict) ([]float32, error) {
		out, _, err := run(x, n, known(w))
		return out, err
	}
	return net, nil
}
