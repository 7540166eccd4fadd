package normalize

import (
	"math"
	"testing"

	"github.com/landscape-go/landscape/nets"
)

// Rows made as a·u + b·v + noise come back as (a, b), for orthonormal and
// for skewed directions, with the noise as the residual.
func TestProjectOnRecoversPlaneCoordinatesAndResidual(t *testing.T) {
	t.Parallel()
	net, err := nets.New("resnet20", nets.Config{InChannels: 1, Height: 8, Width: 8})
	if err != nil {
		t.Fatal(err)
	}
	final := &nets.StateDict{}
	for _, p := range net.Params {
		w := nets.NewTensor(p.Shape...)
		for i := range w.Data {
			w.Data[i] = float32(i%5) * 0.1
		}
		final.Set(p.Name, w)
	}
	// u lives in conv1, v in linear (plus a little of conv1: skewed).
	u, v := &nets.StateDict{}, &nets.StateDict{}
	cu := nets.NewTensor(16, 1, 3, 3)
	cu.Data[0], cu.Data[1] = 0.6, 0.8
	u.Set("conv1.weight", cu)
	cv := nets.NewTensor(16, 1, 3, 3)
	cv.Data[0] = 0.5
	lv := nets.NewTensor(10, 64)
	lv.Data[3] = 1
	v.Set("conv1.weight", cv)
	v.Set("linear.weight", lv)

	pca, err := NewPCA(net, final, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]float64{{1, -2}, {0.25, 0.5}, {0, 0}}
	for _, ab := range want {
		w := &nets.StateDict{}
		for _, name := range final.Names() {
			f, _ := final.Get(name)
			w.Set(name, f.Clone())
		}
		c, _ := w.Get("conv1.weight")
		l, _ := w.Get("linear.weight")
		c.Data[0] += float32(ab[0]*0.6 + ab[1]*0.5)
		c.Data[1] += float32(ab[0] * 0.8)
		l.Data[3] += float32(ab[1])
		l.Data[7] += 0.125 // off the plane
		if err := pca.Add(w, "w"); err != nil {
			t.Fatal(err)
		}
	}
	got, err := pca.ProjectOn(u, v)
	if err != nil {
		t.Fatal(err)
	}
	for k, ab := range want {
		if math.Abs(got[k].X-ab[0]) > 1e-5 || math.Abs(got[k].Y-ab[1]) > 1e-5 || math.Abs(got[k].Residual-0.125) > 1e-5 {
			t.Errorf("row %d: (%g, %g) residual %g; want (%g, %g) residual 0.125", k, got[k].X, got[k].Y, got[k].Residual, ab[0], ab[1])
		}
	}
	if _, err := pca.ProjectOn(u, u); err == nil {
		t.Error("parallel directions gave no error")
	}
}
