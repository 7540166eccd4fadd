package landscape

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
)

// A surface with derivatives adds the gradient's norm, λmax, λmin and
// |λmin/λmax| to its columns, leaving the loss and accuracy bit for bit as
// they are. At a point (α, β) they are those of the network moved there:
// the same as for the weights θ + αu + βv formed outside and taken as the
// centre. Its provenance records how they were computed, so that a plain
// surface's points are never resumed into it.
func TestDerivativeColumnsAreThoseOfTheNetworkAtEveryPoint(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20") // its 1x28x28 images
	spec := Spec{
		Model: filepath.Join("..", "testdata", "train", "mlp.onnx"),
		Data:  data.Spec{Kind: data.NPZ, Path: c.Data}, Directions: Directions{Seed: 3},
		Grid: grid.Grid{X: grid.Axis{Min: 0, Max: 0.5, Num: 2}, Y: &grid.Axis{Min: -0.5, Max: 0, Num: 2}},
	}
	plain, err := Run(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec.GradNorm, spec.Curvature = &GradNorm{}, &Curvature{Tol: 1e-6}
	job, err := Prepare(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer job.Close()
	s, err := job.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := append(surface.Metrics([]string{"train"}), "train_grad_norm", "train_lambda_max", "train_lambda_min", "train_lambda_ratio")
	if !slices.Equal(s.Metrics, want) || len(s.Points) != 4 {
		t.Fatalf("metrics %v and %d points, want %v and 4", s.Metrics, len(s.Points), want)
	}
	if info := s.Provenance.Curvature; info == nil || *info != (surface.CurvatureInfo{Split: "train", Params: "rank2", Tol: 1e-6}) {
		t.Errorf("provenance records the curvature as %+v", info)
	}
	if info := s.Provenance.GradNorm; info == nil || *info != (surface.GradNormInfo{Split: "train", Params: "rank2"}) {
		t.Errorf("provenance records the gradient norm as %+v", info)
	}
	if err := s.Provenance.Compatible(plain.Provenance, true); !errors.Is(err, surface.ErrIncompatible) {
		t.Errorf("a plain surface is compatible with the map: %v", err)
	}
	for k, p := range s.Points {
		if !slices.Equal(p.Values[:2], plain.Points[k].Values) {
			t.Errorf("point %d: loss and accuracy %v, the plain surface's %v", p.Index, p.Values[:2], plain.Points[k].Values)
		}
		grad, lmax, lmin, ratio := p.Values[2], p.Values[3], p.Values[4], p.Values[5]
		if !(grad > 0 && lmax > 0 && lmin < lmax && ratio == math.Abs(lmin/lmax)) {
			t.Errorf("point %d: gradient norm %g, λmax %g, λmin %g, ratio %g", p.Index, grad, lmax, lmin, ratio)
		}
	}

	// The point (0.5, -0.5), as the centre of the weights moved there.
	at := s.Points[1]
	in := job.Input
	moved := &nets.StateDict{}
	for _, name := range in.Weights.Names() {
		w, _ := in.Weights.Get(name)
		m := w.Clone()
		dx, okx := in.X.Get(name)
		dy, oky := in.Y.Get(name)
		if okx && oky {
			for i := range m.Data {
				m.Data[i] = w.Data[i] + (float32(float32(at.X)*dx.Data[i]) + float32(float32(at.Y)*dy.Data[i]))
			}
		}
		moved.Set(name, m)
	}
	centre := grid.Axis{Min: 0, Max: 0, Num: 1}
	there, err := Compute(context.Background(), &Input{Net: in.Net, Weights: moved, Data: in.Data, X: in.X, Y: in.Y,
		Grid: grid.Grid{X: centre, Y: &centre}, GradNorm: &GradNorm{}, Curvature: &Curvature{Tol: 1e-6}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, what := range []string{"loss", "accuracy", "gradient norm", "λmax", "λmin", "ratio"} {
		got, want := at.Values[k], there.Points[0].Values[k]
		if math.Abs(got-want) > 1e-5*math.Abs(want) {
			t.Errorf("at (%g, %g): %s %.9g, the moved weights' %.9g", at.X, at.Y, what, got, want)
		}
	}
}
