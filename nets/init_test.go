package nets

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// Initialise gives zoo networks of every family PyTorch's default
// initialisation in distribution: weights and biases of convolutions and
// linear layers uniform on ±1/√fan_in (their extremes near the bound,
// their variance bound²/3), batch norms at weight 1, bias 0, running mean
// 0 and variance 1; the same bits for a seed, others for another.
func TestInitialiseIsPyTorchsDefault(t *testing.T) {
	for _, name := range []string{"resnet20", "resnet56_noshort", "wrn56_2", "resnet18", "vgg9", "densenet121"} {
		net, err := New(name, Config{})
		if err != nil {
			t.Fatal(err)
		}
		sd, err := net.Initialise(1)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := net.Check(sd); err != nil {
			t.Fatalf("%s: the initial weights do not fit the net: %v", name, err)
		}
		again, _ := net.Initialise(1)
		other, _ := net.Initialise(2)
		kinds := map[string]OpKind{}
		for _, o := range net.Ops {
			kinds[o.Name] = o.Kind
		}
		for _, p := range net.Params {
			tn, _ := sd.Get(p.Name)
			a, _ := again.Get(p.Name)
			if !slices.Equal(tn.Data, a.Data) {
				t.Fatalf("%s: %s differs between two draws from one seed", name, p.Name)
			}
			dot := strings.LastIndexByte(p.Name, '.')
			owner, field := p.Name[:dot], p.Name[dot+1:]
			switch kinds[owner] {
			case Conv, Linear:
				w, _ := sd.Get(owner + ".weight")
				fanIn := NumElements(w.Shape[1:])
				bound := 1 / math.Sqrt(float64(fanIn))
				var ss, top float64
				for _, v := range tn.Data {
					ss += float64(v) * float64(v)
					top = max(top, math.Abs(float64(v)))
				}
				if top > float64(float32(bound)) { // the bound as the float32 values round it
					t.Fatalf("%s: %s has %g, past ±1/√%d = %g", name, p.Name, top, fanIn, bound)
				}
				if n := len(tn.Data); n >= 1000 {
					if top < 0.99*bound {
						t.Fatalf("%s: %s reaches %g of a bound of %g: not uniform on it", name, p.Name, top, bound)
					}
					if v := ss / float64(n); math.Abs(v/(bound*bound/3)-1) > 0.1 {
						t.Fatalf("%s: %s has variance %g, uniform on ±%g has %g", name, p.Name, v, bound, bound*bound/3)
					}
					o, _ := other.Get(p.Name)
					if slices.Equal(tn.Data, o.Data) {
						t.Fatalf("%s: %s is the same from seeds 1 and 2", name, p.Name)
					}
				}
			case BatchNorm:
				want := map[string]float32{"weight": 1, "bias": 0, "running_mean": 0, "running_var": 1, "num_batches_tracked": 0}[field]
				for _, v := range tn.Data {
					if v != want {
						t.Fatalf("%s: %s holds %g, want %g", name, p.Name, v, want)
					}
				}
				if (field == "num_batches_tracked") != (tn.DType == "int64") {
					t.Fatalf("%s: %s has dtype %s", name, p.Name, tn.DType)
				}
			default:
				t.Fatalf("%s: %s belongs to no convolution, linear layer or batch norm", name, p.Name)
			}
		}
	}
}
