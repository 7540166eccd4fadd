package normalize

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// TestNormalizeMatchesPyTorch applies every normalisation and ignore rule
// to raw Gaussian draws made by PyTorch and compares with what the
// reference's normalize_directions_for_states made of the same draws
// (scripts/fixtures/make_normalize.py).
func TestNormalizeMatchesPyTorch(t *testing.T) {
	t.Parallel()
	sd, _, err := safetensors.Read(filepath.Join("..", "testdata", "normalize", "normalize.safetensors"))
	if err != nil {
		t.Fatal(err)
	}
	weights, raw := &nets.StateDict{}, &nets.StateDict{}
	for _, k := range sd.Names() {
		v, _ := sd.Get(k)
		if name, ok := strings.CutPrefix(k, "w."); ok {
			weights.Set(name, v)
		}
		if name, ok := strings.CutPrefix(k, "raw."); ok {
			raw.Set(name, v)
		}
	}
	if raw.Len() < 5 {
		t.Fatalf("fixture has %d raw tensors", raw.Len())
	}
	checked := 0
	for _, norm := range []Norm{Filter, Layer, Weight, DFilter, DLayer, None} {
		for _, ignore := range []Ignore{BiasBN, CopyWeights} {
			dir := &nets.StateDict{}
			for _, k := range raw.Names() {
				v, _ := raw.Get(k)
				dir.Set(k, v.Clone())
			}
			if err := Normalize(dir, weights, norm, ignore); err != nil {
				t.Fatal(err)
			}
			for _, k := range dir.Names() {
				got, _ := dir.Get(k)
				want, ok := sd.Get(norm.String() + "." + ignore.String() + "." + k)
				if !ok {
					t.Fatalf("fixture lacks %s.%s.%s", norm, ignore, k)
				}
				for i := range got.Data {
					g, w := float64(got.Data[i]), float64(want.Data[i])
					if math.Abs(g-w) > 1e-6*math.Max(1, math.Abs(w)) {
						t.Errorf("%s/%s %s[%d] = %.9g, PyTorch %.9g", norm, ignore, k, i, g, w)
						break
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d tensors compared", checked)
}

// Random directions follow their seed, skip buffers, are zero on biases
// and batch-norm weights, and have each filter's norm equal to the
// weight's filter.
func TestRandomIsSeededAndFilterNormalised(t *testing.T) {
	t.Parallel()
	net, err := nets.New("resnet20", nets.Config{InChannels: 1, Height: 8, Width: 8})
	if err != nil {
		t.Fatal(err)
	}
	center := &nets.StateDict{}
	for _, p := range net.Params {
		w := nets.NewTensor(p.Shape...)
		for i := range w.Data {
			w.Data[i] = float32(i%7) - 2.5
		}
		center.Set(p.Name, w)
	}
	a, err := Random(net, center, nil, NewRand(7))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Random(net, center, nil, NewRand(7))
	c, _ := Random(net, center, nil, NewRand(8))
	if Hash(a, nil) != Hash(b, nil) {
		t.Error("the same seed gave different directions")
	}
	if Hash(a, nil) == Hash(c, nil) {
		t.Error("different seeds gave the same directions")
	}
	for _, p := range net.Params {
		d, ok := a.Get(p.Name)
		if p.Kind == nets.Buffer {
			if ok {
				t.Errorf("weights mode gave buffer %s a direction", p.Name)
			}
			continue
		}
		w, _ := center.Get(p.Name)
		if len(p.Shape) <= 1 {
			if l2(d.Data) != 0 {
				t.Errorf("%s: biasbn direction is not zero", p.Name)
			}
			continue
		}
		per := len(d.Data) / p.Shape[0]
		for i := range p.Shape[0] {
			dn, wn := l2(d.Data[i*per:(i+1)*per]), l2(w.Data[i*per:(i+1)*per])
			if math.Abs(dn-wn) > 1e-5*wn {
				t.Fatalf("%s filter %d: norm %g, weight norm %g", p.Name, i, dn, wn)
			}
		}
	}
}

// Each Norm's name parses back to it, case-sensitively, and the ignore and
// mode names parse to their values.
func TestNormIgnoreAndModeNamesParseBack(t *testing.T) {
	t.Parallel()
	for _, n := range []Norm{Filter, Layer, Weight, DFilter, DLayer, None} {
		if got, err := ParseNorm(n.String()); err != nil || got != n {
			t.Errorf("ParseNorm(%q) = %v, %v", n, got, err)
		}
	}
	if _, err := ParseNorm("Filter"); err == nil {
		t.Error("ParseNorm accepted Filter")
	}
	if g, err := ParseIgnore("none"); err != nil || g != CopyWeights {
		t.Errorf("ParseIgnore(none) = %v, %v", g, err)
	}
	if m, err := ParseMode("states"); err != nil || m != States {
		t.Errorf("ParseMode(states) = %v, %v", m, err)
	}
}

// TestHashIsItsDefinition holds Hash to the bytes its doc names: for x,
// then y, each tensor's "axis.name[shape]\n" and its values as
// little-endian float32, whatever the machine's byte order.
func TestHashIsItsDefinition(t *testing.T) {
	x, y := &nets.StateDict{}, &nets.StateDict{}
	a, b := nets.NewTensor(2, 3), nets.NewTensor(70000) // b spans buffers of the old chunked writer
	for i := range a.Data {
		a.Data[i] = float32(i) - 2.5
	}
	for i := range b.Data {
		b.Data[i] = float32(math.Sin(float64(i)))
	}
	x.Set("conv.weight", a)
	x.Set("fc.bias", b)
	y.Set("conv.weight", b)
	h := sha256.New()
	for _, d := range []struct {
		axis string
		sd   *nets.StateDict
	}{{"x", x}, {"y", y}} {
		for _, name := range d.sd.Names() {
			tn, _ := d.sd.Get(name)
			fmt.Fprintf(h, "%s.%s%v\n", d.axis, name, tn.Shape)
			for _, v := range tn.Data {
				h.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v)))
			}
		}
	}
	if got, want := Hash(x, y), hex.EncodeToString(h.Sum(nil)); got != want {
		t.Errorf("Hash = %s, its definition %s", got, want)
	}
}
