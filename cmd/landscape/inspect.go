package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/onnx"
)

func cmdInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var model modelFlags
	fs := newFlags("inspect", "FILE [--model M]", stderr)
	model.register(fs)
	ckpt := fs.String("checkpoint", "", checkpointHelp)
	// inspect takes the file as its argument; --checkpoint is accepted too.
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	path := fs.Arg(0)
	if path == "" {
		path = *ckpt
	}
	if path == "" {
		return usagef("no checkpoint file given")
	}
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return inspectONNX(path, stdout)
	}
	sd, format, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (%s), %d tensors\n\nKEY\tDTYPE\tSHAPE\tELEMENTS\n", path, format, sd.Len())
	total := 0
	for _, name := range sd.Names() {
		t, _ := sd.Get(name)
		n := nets.NumElements(t.Shape)
		total += n
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\n", name, t.DType, t.Shape, n)
	}
	fmt.Fprintf(tw, "\ntotal\t\t\t%d\n", total)
	if err := tw.Flush(); err != nil {
		return err
	}
	if model.model == "" {
		return nil
	}
	mc, err := model.config()
	if err != nil {
		return err
	}
	if _, err := landscape.CheckWeights(path, sd, model.model, mc); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fits model %s\n", model.model)
	return nil
}

// inspectONNX lists an ONNX model: its inputs and outputs, its operators
// by count, and its weights (the floating-point initializers a landscape
// would move); it fails, listing them, if some operators are unsupported.
func inspectONNX(path string, stdout io.Writer) error {
	m, err := onnx.Read(path, nil)
	if err != nil {
		return err
	}
	g := m.Graph
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (ONNX, opset %d, from %s %s)\n\n", path, g.Opset, m.ProducerName, m.ProducerVersion)
	for _, v := range g.DataInputs() {
		fmt.Fprintf(tw, "input\t%s\t%v\n", v.Name, v.Shape)
	}
	for _, v := range g.Outputs {
		fmt.Fprintf(tw, "output\t%s\t%v\n", v.Name, v.Shape)
	}
	count := map[string]int{}
	for _, n := range g.Nodes {
		count[n.OpType]++
	}
	types := slices.Sorted(maps.Keys(count))
	fmt.Fprintf(tw, "\n%d nodes:", len(g.Nodes))
	for _, t := range types {
		fmt.Fprintf(tw, " %s×%d", t, count[t])
	}
	weights := g.Weights()
	fmt.Fprintf(tw, "\n\nWEIGHT\tSHAPE\tELEMENTS\n")
	total := 0
	for _, name := range weights.Names() {
		t, _ := weights.Get(name)
		n := nets.NumElements(t.Shape)
		total += n
		fmt.Fprintf(tw, "%s\t%v\t%d\n", name, t.Shape, n)
	}
	fmt.Fprintf(tw, "\ntotal\t\t%d\n", total)
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := g.Check(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "every operator is supported (the reference evaluator; surfaces of ONNX models are to come)")
	return nil
}
