package landscape

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/nets"
)

// zooCase is one fixture written by scripts/fixtures/make_fixtures.py: a
// small trained network of the zoo, its checkpoints in several formats, a
// few samples, directions made as the reference makes them, and the loss
// and accuracy PyTorch computed at a few points.
type zooCase struct {
	Model       string            `json:"model"`
	InChannels  int               `json:"in_channels"`
	Height      int               `json:"height"`
	Width       int               `json:"width"`
	Classes     int               `json:"classes"`
	Checkpoints map[string]string `json:"checkpoints"`
	Data        string            `json:"data"`
	Directions  string            `json:"directions"`
	BatchSize   int               `json:"batch_size"`
	StateDict   []struct {
		Key       string `json:"key"`
		Shape     []int  `json:"shape"`
		Parameter bool   `json:"parameter"`
	} `json:"state_dict"`
	Points   []refPoint `json:"points"`
	Points1D []refPoint `json:"points_1d"`
}

type refPoint struct {
	X    float64  `json:"x"`
	Y    *float64 `json:"y"`
	Loss float64  `json:"loss"`
	Acc  float64  `json:"acc"`
}

const zooDir = "../testdata/zoo"

func loadZooCases(t *testing.T) map[string]zooCase {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(zooDir, "*.json"))
	if len(files) == 0 {
		t.Fatalf("no fixtures in %s: run scripts/fixtures/make_fixtures.py", zooDir)
	}
	cases := map[string]zooCase{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c zooCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases[filepath.Base(f[:len(f)-len(".json")])] = c
	}
	return cases
}

// TestZooKeysMatchPyTorch checks the Go architectures declare exactly the
// state-dict keys, shapes and parameter/buffer split of the PyTorch ones.
func TestZooKeysMatchPyTorch(t *testing.T) {
	t.Parallel()
	for name, c := range loadZooCases(t) {
		net, err := nets.New(c.Model, nets.Config{InChannels: c.InChannels, Height: c.Height, Width: c.Width, Classes: c.Classes})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(net.Params) != len(c.StateDict) {
			t.Errorf("%s: Go has %d state-dict entries, PyTorch %d", name, len(net.Params), len(c.StateDict))
			continue
		}
		for i, want := range c.StateDict {
			got := net.Params[i]
			if got.Name != want.Key || !slices.Equal(got.Shape, want.Shape) || (got.Kind == nets.Weight) != want.Parameter {
				t.Errorf("%s: entry %d is %s %v (weight %v), PyTorch has %s %v (parameter %v)",
					name, i, got.Name, got.Shape, got.Kind == nets.Weight, want.Key, want.Shape, want.Parameter)
			}
		}
	}
}

// TestLossMatchesPyTorch evaluates every fixture network, from every
// checkpoint format it was saved in, at the points PyTorch evaluated, and
// asks for the same loss within 1e-4 relative and the same accuracy.
// On a machine with a usable GPU it runs again on the CUDA backend, which
// must meet the same bounds: the backend conformance suite.
func TestLossMatchesPyTorch(t *testing.T) {
	t.Parallel()
	cases := loadZooCases(t)
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	forEachDevice(t, func(t *testing.T, device string) {
		for _, name := range names {
			c := cases[name]
			for format, file := range c.Checkpoints {
				t.Run(name+"/"+format, func(t *testing.T) {
					parallelOnCPU(t, device)
					testLossMatchesPyTorch(t, c, file, device)
				})
			}
		}
	})
}

func testLossMatchesPyTorch(t *testing.T, c zooCase, file, device string) {
	ax := grid.Axis{Min: -1, Max: 1, Num: 2}
	job, err := Prepare(Config{
		Model:         c.Model,
		ModelConfig:   nets.Config{InChannels: c.InChannels, Height: c.Height, Width: c.Width, Classes: c.Classes},
		Checkpoint:    filepath.Join(zooDir, file),
		Data:          data.Spec{Kind: data.NPZ, Path: filepath.Join(zooDir, c.Data)},
		DirectionFile: filepath.Join(zooDir, c.Directions),
		Grid:          grid.Grid{X: ax, Y: &ax},
		BatchSize:     c.BatchSize,
		Workers:       1,
		Device:        device,
	})
	if err != nil {
		t.Fatal(err)
	}
	refs := append(append([]refPoint(nil), c.Points...), c.Points1D...)
	coords := make([]backend.Coord, len(refs))
	for i, p := range refs {
		coords[i].X = p.X
		if p.Y != nil {
			coords[i].Y = *p.Y
		}
	}
	got := make([][]float64, len(refs))
	if err := job.Evaluator.Evaluate(context.Background(), coords, func(i int, v []float64) { got[i] = v }); err != nil {
		t.Fatal(err)
	}
	for i, p := range refs {
		loss, acc := got[i][0], got[i][1]
		if rel := math.Abs(loss-p.Loss) / math.Abs(p.Loss); !(rel <= 1e-4) {
			t.Errorf("at (%g, %v): loss %.9g, PyTorch %.9g (relative difference %.2g)", p.X, coords[i].Y, loss, p.Loss, rel)
		}
		if math.Abs(acc-p.Acc) > 1e-9 {
			t.Errorf("at (%g, %v): accuracy %.6g%%, PyTorch %.6g%%", p.X, coords[i].Y, acc, p.Acc)
		}
	}
}
