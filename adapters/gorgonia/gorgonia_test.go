package gorgonia

import (
	"testing"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"gorgonia.org/tensor"
)

// A real checkpoint goes to Gorgonia and back without a copy: writes
// through the Dense are seen in the state dict.
func TestRoundTripSharesMemory(t *testing.T) {
	sd, _, err := checkpoint.Load("../../testdata/zoo/resnet20.pt")
	if err != nil {
		t.Fatal(err)
	}
	dense := StateDictToDense(sd)
	w := dense["layer1.0.conv1.weight"]
	if got := w.Shape(); !got.Eq(tensor.Shape{16, 16, 3, 3}) {
		t.Fatalf("shape %v", got)
	}
	orig, _ := sd.Get("layer1.0.conv1.weight")
	if v, _ := w.At(0, 0, 1, 2); v.(float32) != orig.Data[5] {
		t.Errorf("At(0,0,1,2) = %v, want %v", v, orig.Data[5])
	}
	w.SetAt(float32(42), 0, 0, 0, 0)
	if orig.Data[0] != 42 {
		t.Error("a write through the Dense did not reach the state dict: it was copied")
	}
	shapes := map[string][]int{}
	for _, n := range sd.Names() {
		tt, _ := sd.Get(n)
		shapes[n] = tt.Shape
	}
	back, err := StateDictFromDense(sd.Names(), dense, shapes)
	if err != nil {
		t.Fatal(err)
	}
	net, _ := nets.New("resnet20", nets.Config{InChannels: 1, Height: 28, Width: 28})
	if err := net.Check(back); err != nil {
		t.Fatal(err)
	}
	b, _ := back.Get("layer1.0.conv1.weight")
	if &b.Data[0] != &orig.Data[0] {
		t.Error("FromDense copied the data")
	}
}

func TestFromDenseRefusesOtherTypesAndViews(t *testing.T) {
	if _, err := FromDense(tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float64{1, 2, 3, 4}))); err == nil {
		t.Error("float64 accepted")
	}
	d := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	if err := d.T(); err != nil {
		t.Fatal(err)
	}
	if _, err := FromDense(d); err == nil {
		t.Error("a transposed view accepted")
	}
}
