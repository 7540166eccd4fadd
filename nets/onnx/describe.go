package onnx

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
)

// Describe writes m for people: its opset and producer, its data inputs
// and outputs, its operators by count, and its weights (the floating-point
// initializers a landscape moves) as [nets.StateDict.WriteTable] lists
// them.
func (m *Model) Describe(w io.Writer) error {
	g := m.Graph
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "opset %d, from %s %s\n\n", g.Opset, m.ProducerName, m.ProducerVersion)
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
	fmt.Fprintf(tw, "\n%d nodes:", len(g.Nodes))
	for _, t := range slices.Sorted(maps.Keys(count)) {
		fmt.Fprintf(tw, " %s×%d", t, count[t])
	}
	fmt.Fprint(tw, "\n\n")
	if err := tw.Flush(); err != nil {
		return err
	}
	return g.Weights().WriteTable(w)
}
