package landscape_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// The fixtures of the repository: a ResNet-20 trained briefly on
// Fashion-MNIST, a second training run's end point, and 20 test images.
var (
	resnet20   = filepath.Join("..", "testdata", "zoo", "resnet20.pt")
	resnet20B  = filepath.Join("..", "testdata", "trajectory", "resnet20_b.safetensors")
	resnet20Xy = filepath.Join("..", "testdata", "zoo", "resnet20.data.npz")
)

// A 2D surface from files, as "landscape surface" computes it: random
// filter-normalised directions (biases and batch norm ignored), a 3x3
// grid over [-1, 1]².
func ExampleRun() {
	ax := grid.Axis{Min: -1, Max: 1, Num: 3}
	s, err := landscape.Run(context.Background(), landscape.Spec{
		Model:      "resnet20",
		Checkpoint: resnet20,
		Data:       data.Spec{Kind: data.NPZ, Path: resnet20Xy},
		Directions: landscape.Directions{Seed: 1},
		Grid:       grid.Grid{X: ax, Y: &ax},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	z, _ := s.Grid("train_loss")
	fmt.Printf("%d points of %s; loss at the centre %.3g, at a corner %.3g\n",
		len(s.Points), s.Provenance.Model.Name, z[1][1], z[0][0])
	// Output: 9 points of resnet20; loss at the centre 0.426, at a corner 2.69e+03
}

// A surface from weights and data already in memory: here read with the
// checkpoint and data packages, but they could come from training in Go
// or from Gorgonia tensors through adapters/gorgonia.
func ExampleCompute() {
	weights, _, err := checkpoint.Load(resnet20)
	if err != nil {
		log.Fatal(err)
	}
	test, err := data.Load(data.Spec{Kind: data.NPZ, Path: resnet20Xy}, "test", nil)
	if err != nil {
		log.Fatal(err)
	}
	net, err := nets.New("resnet20", nets.Config{InChannels: test.C, Height: test.H, Width: test.W, Classes: 10})
	if err != nil {
		log.Fatal(err)
	}
	s, err := landscape.Compute(context.Background(), &landscape.Input{
		Net: net, Weights: weights, Data: []*data.Dataset{test},
		Grid: grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 5}}, Seed: 1,
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range s.Points {
		fmt.Printf("α = %4.1f: loss %.3g, accuracy %.0f%%\n", p.X, p.Values[0], p.Values[1])
	}
	fmt.Println("directions:", s.Provenance.Directions.Kind, s.Provenance.Directions.Norm)
	// Output:
	// α = -1.0: loss 264, accuracy 20%
	// α = -0.5: loss 4.89, accuracy 30%
	// α =  0.0: loss 0.426, accuracy 90%
	// α =  0.5: loss 1.19, accuracy 50%
	// α =  1.0: loss 25.5, accuracy 15%
	// directions: random filter
}

// The PCA of a training run: the checkpoints' path in the plane of its two
// principal components, and the grid that covers it. Here the run is
// made up of four points on the way from one trained model to another,
// with a detour.
func ExampleRunTrajectory() {
	dir, err := os.MkdirTemp("", "trajectory")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	a, _, _ := checkpoint.Load(resnet20)
	b, _, _ := checkpoint.Load(resnet20B)
	var paths []string
	for i, t := range []struct{ along, off float32 }{{0, 0}, {0.3, 0.2}, {0.7, 0.1}, {1, 0}} {
		sd := &nets.StateDict{}
		for _, k := range a.Names() {
			wa, _ := a.Get(k)
			wb, _ := b.Get(k)
			w := wa.Clone()
			for j := range w.Data {
				d := wb.Data[j] - wa.Data[j]
				w.Data[j] += t.along*d + t.off*d*float32(j%2*2-1) // a detour off the line
			}
			sd.Set(k, w)
		}
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("model_%d.safetensors", i)))
		if err := safetensors.Write(paths[i], sd, nil); err != nil {
			log.Fatal(err)
		}
	}
	tr, err := landscape.RunTrajectory(context.Background(), landscape.TrajectoryConfig{
		Model: "resnet20", ModelConfig: nets.Config{InChannels: 1, Height: 28, Width: 28}, Checkpoints: paths,
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("PC1 explains %.0f%% of the variance, PC2 %.0f%%\n", 100*tr.PCA.ExplainedVarianceRatio[0], 100*tr.PCA.ExplainedVarianceRatio[1])
	x, y := tr.Suggest(0.2, 51)
	fmt.Println("suggested grid:", x, y)
	// Output:
	// PC1 explains 96% of the variance, PC2 4%
	// suggested grid: -0.984:0.216:51 -0.07:0.18:51
}
