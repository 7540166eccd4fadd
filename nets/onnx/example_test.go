package onnx_test

import (
	"fmt"
	"log"

	"github.com/landscape-go/landscape/nets/onnx"
)

// Evaluate an exported network on a batch of inputs.
func ExampleGraph_Run() {
	m, err := onnx.Read("testdata/tiny_mlp.onnx", nil)
	if err != nil {
		log.Fatal(err)
	}
	g := m.Graph
	in := g.DataInputs()[0]
	x := onnx.Floats([]int{4, 20}, make([]float32, 80))
	out, err := g.Run(map[string]*onnx.Tensor{in.Name: x}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("opset", g.Opset, "input", in.Name, in.Shape)
	fmt.Println("output", out[g.Outputs[0].Name].Shape)
	fmt.Println("weights", g.Weights().Len())
	// Output:
	// opset 17 input input [4 20]
	// output [4 5]
	// weights 8
}
