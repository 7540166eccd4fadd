package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
)

// Initialise returns a state dict of n at PyTorch's default initialisation
// of its layers, drawn from seed: the distribution nn.Conv2d, nn.Linear
// and nn.BatchNorm2d give their parameters when made, not PyTorch's random
// numbers. A convolution's or linear layer's weight and bias are uniform
// on ±1/√fan_in (kaiming_uniform_ with a = √5, fan_in the weight's
// elements per output), a batch norm's weight is 1 and its bias 0, its
// running mean 0, running variance 1 and num_batches_tracked 0 (an int64,
// as PyTorch keeps it). It is the start of training from scratch, as in
// "landscape demo"'s race. An entry of n that is none of these is an
// error naming it.
func (n *Net) Initialise(seed uint64) (*StateDict, error) {
	owners := map[string]OpKind{}
	for _, o := range n.Ops {
		owners[o.Name] = o.Kind
	}
	shapes := map[string][]int{}
	for _, p := range n.Params {
		shapes[p.Name] = p.Shape
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	uniform := func(data []float32, bound float64) {
		for i := range data {
			data[i] = float32(bound * (2*rng.Float64() - 1))
		}
	}
	sd := &StateDict{}
	for _, p := range n.Params {
		t := NewTensor(p.Shape...)
		dot := strings.LastIndexByte(p.Name, '.')
		owner, field := p.Name[:max(dot, 0)], p.Name[dot+1:]
		kind, ok := owners[owner]
		switch {
		case ok && (kind == Conv || kind == Linear) && (field == "weight" || field == "bias"):
			w := shapes[owner+".weight"]
			if len(w) < 2 {
				return nil, fmt.Errorf("nets: %s: initialising %s: its layer's weight has shape %v", n.Name, p.Name, w)
			}
			uniform(t.Data, 1/math.Sqrt(float64(NumElements(w[1:]))))
		case ok && kind == BatchNorm && (field == "weight" || field == "running_var"):
			for i := range t.Data {
				t.Data[i] = 1
			}
		case ok && kind == BatchNorm && (field == "bias" || field == "running_mean"):
		case ok && kind == BatchNorm && field == "num_batches_tracked":
			t.DType = "int64"
		default:
			return nil, fmt.Errorf("nets: %s: no default initialisation for %s", n.Name, p.Name)
		}
		sd.Set(p.Name, t)
	}
	return sd, nil
}
