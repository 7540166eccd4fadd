package normalize

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

// TestDirectionFileRoundTrip writes directions and reads them back for
// the same model, values and metadata unchanged.
func TestDirectionFileRoundTrip(t *testing.T) {
	t.Parallel()
	net, x, y := fileDirections(t)
	path := filepath.Join(t.TempDir(), "dirs.safetensors")
	if err := WriteFile(path, x, y, Meta{Kind: "random", Seed: 3}); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path, net)
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta.Seed != 3 || f.Meta.Kind != "random" || f.X.Len() != x.Len() || f.Y.Len() != y.Len() {
		t.Fatalf("read back %d x and %d y tensors, meta %v; wrote %d and %d, seed 3", f.X.Len(), f.Y.Len(), f.Meta, x.Len(), y.Len())
	}
	for _, name := range x.Names() {
		a, _ := x.Get(name)
		b, _ := f.X.Get(name)
		for i := range a.Data {
			if a.Data[i] != b.Data[i] {
				t.Fatalf("x.%s[%d] = %v, wrote %v", name, i, b.Data[i], a.Data[i])
			}
		}
	}
}

// TestDirectionFileRefusesNonFinite checks that a direction file holding
// NaN or Inf is refused, naming the file and the tensor, rather than
// silently making every point off the centre NaN.
func TestDirectionFileRefusesNonFinite(t *testing.T) {
	t.Parallel()
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		net, x, y := fileDirections(t)
		name := y.Names()[1]
		v, _ := y.Get(name)
		v.Data[len(v.Data)-1] = bad
		path := filepath.Join(t.TempDir(), "dirs.safetensors")
		if err := WriteFile(path, x, y, Meta{}); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, net)
		if !errors.Is(err, ErrNonFinite) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "y."+name+" (1 of") {
			t.Errorf("%v in y.%s: error %v, want ErrNonFinite naming the file and the tensor", bad, name, err)
		}
	}
}

// fileDirections returns a small zoo net with two random filter-normalised
// directions.
func fileDirections(t *testing.T) (*nets.Net, *nets.StateDict, *nets.StateDict) {
	t.Helper()
	net, err := nets.New("resnet20", nets.Config{Height: 8, Width: 8})
	if err != nil {
		t.Fatal(err)
	}
	rng := NewRand(1)
	center := &nets.StateDict{}
	for _, p := range net.Params {
		w := nets.NewTensor(p.Shape...)
		for i := range w.Data {
			w.Data[i] = float32(rng.NormFloat64())
		}
		center.Set(p.Name, w)
	}
	var dirs [2]*nets.StateDict
	for i := range dirs {
		if dirs[i], err = Random(net, center, nil, rng); err != nil {
			t.Fatal(err)
		}
	}
	return net, dirs[0], dirs[1]
}
