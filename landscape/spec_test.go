package landscape

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/fixture"
	"github.com/landscape-go/landscape/nets"
)

// Device names: the CPU, a GPU by ordinal, or all of them.
func TestParseDevice(t *testing.T) {
	for _, c := range []struct {
		name    string
		kind    string
		ordinal int
		err     string
	}{
		{"", "cpu", 0, ""}, {"cpu", "cpu", 0, ""}, {"auto", "auto", 0, ""}, {"cuda", "cuda", 0, ""},
		{"cuda:3", "cuda", 3, ""}, {"cuda:all", "cuda", AllGPUs, ""},
		{"cuda:-1", "", 0, "cuda:all"}, {"cuda:x", "", 0, "ordinal"}, {"tpu", "", 0, "unknown device"},
	} {
		kind, ordinal, err := ParseDevice(c.name)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want an error saying %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || kind != c.kind || ordinal != c.ordinal {
			t.Errorf("%q: %s, %d, %v; want %s, %d", c.name, kind, ordinal, err, c.kind, c.ordinal)
		}
	}
}

// An npz of one split (arrays x and y) serves any split asked for alone,
// but asked for train and test it would serve the same samples twice as if
// they were two: refused, naming the arrays.
func TestOneSplitArchiveIsNotTwoSplits(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	_, err := Prepare(Spec{
		Model: c.Model, Checkpoint: c.CheckpointFile(t, "zip"), ModelConfig: c.Config,
		Data: data.Spec{Kind: data.NPZ, Path: c.Data}, Splits: []string{"train", "test"},
		Grid: grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 3}},
	}, nil)
	if err == nil || !strings.Contains(err.Error(), "splits train and test would both be arrays x, y") {
		t.Errorf("train and test from one split's arrays: %v", err)
	}
}

// Data whose images are not the model's input shape is refused naming the
// data and both shapes, and channels-last images are recognised as such;
// a model that takes its input flattened (an MLP's N x F) takes any image
// of F values.
func TestDataMustFitTheModelsInput(t *testing.T) {
	t.Parallel()
	net := &nets.Net{Name: "m.onnx", Config: nets.Config{InChannels: 1, Height: 8, Width: 8}}
	flat := &nets.Net{Name: "mlp.onnx", Config: nets.Config{InChannels: 64, Height: 1, Width: 1}}
	spec := data.Spec{Kind: data.NPZ, Path: "d.npz"}
	for _, tc := range []struct {
		net     *nets.Net
		c, h, w int
		want    string
	}{
		{net, 1, 8, 8, ""},
		{net, 3, 32, 32, "data npz:d.npz holds 3x32x32 images, but model m.onnx takes 1x8x8"},
		{net, 8, 8, 1, "look channels-last, N x H x W x C: transpose them"},
		{flat, 1, 8, 8, ""},
		{flat, 1, 8, 9, "holds 1x8x9 images, but model mlp.onnx takes 64x1x1"},
	} {
		err := fitsData(tc.net, &data.Dataset{C: tc.c, H: tc.h, W: tc.w}, spec)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s on %dx%dx%d: %v, want %q", tc.net.Name, tc.c, tc.h, tc.w, err, tc.want)
		}
	}
}

// A surface of a checkpoint near chance on its data warns, through Warn,
// also when nothing is logged (a quiet batch job): its surface is likely
// meaningless (the data normalised otherwise than in training, or the
// wrong checkpoint).
func TestNearChanceWarnsWhenQuiet(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	net := c.Net(t)
	untrained, err := net.Initialise(1)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := data.Load(data.Spec{Kind: data.NPZ, Path: c.Data}, "train", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		weights *nets.StateDict
		warns   bool
	}{{untrained, true}, {c.Weights(t), false}} {
		var warn bytes.Buffer
		_, err := Compute(context.Background(), &Input{Net: net, Weights: tc.weights, Data: []*data.Dataset{ds},
			Grid: grid.Grid{X: grid.Axis{Min: 0, Max: 0, Num: 1}}}, &Options{Warn: &warn})
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(warn.String(), "warning: the checkpoint is near chance on the train data"); got != tc.warns {
			t.Errorf("warned %v, want %v: %q", got, tc.warns, warn.String())
		}
	}
}

// An input the export fixed is the network's: asking for another
// (--channels, --size) is refused naming both, not quietly overruled;
// and data of another shape is refused with the hint for channels-last
// images, the data being what filled the dimensions left open.
func TestAskedInputMustFitAnExport(t *testing.T) {
	t.Parallel()
	c := fixture.Load(t, "resnet20")
	model := filepath.Join(onnxDir, "resnet20.onnx") // 2 x 1 x 28 x 28
	prepare := func(mc nets.Config) error {
		job, err := Prepare(Spec{Model: model, Checkpoint: c.CheckpointFile(t, "zip"), ModelConfig: mc,
			Data: data.Spec{Kind: data.NPZ, Path: c.Data}, Grid: grid.Grid{X: grid.Axis{Min: -1, Max: 1, Num: 3}}}, nil)
		if err == nil {
			job.Close()
		}
		return err
	}
	if err := prepare(nets.Config{InChannels: 1, Height: 28, Width: 28}); err != nil {
		t.Errorf("the export's own input: %v", err)
	}
	for _, tc := range []struct {
		mc   nets.Config
		want string
	}{
		{nets.Config{InChannels: 3}, "model resnet20.onnx takes 1x28x28 inputs, fixed by its export: 3 channels asked"},
		{nets.Config{Height: 32, Width: 32}, "32 height asked"},
	} {
		if err := prepare(tc.mc); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.mc, err, tc.want)
		}
	}
}

// A zoo model shaped for channels-last data fails on its checkpoint's
// first convolution; the error says the data is the likelier cause.
func TestChannelsLastDataIsNamedForAZooModel(t *testing.T) {
	t.Parallel()
	err := withDataHint(errors.New("conv1.weight: shape [16 1 3 3] in checkpoint, model wants [16 28 3 3]"),
		&data.Dataset{C: 28, H: 28, W: 1}, data.Spec{Kind: data.NPZ, Path: "d.npz"})
	if err == nil || !strings.Contains(err.Error(), "data npz:d.npz holds 28x28x1 images, which look channels-last") || !strings.Contains(err.Error(), "model wants") {
		t.Errorf("%v", err)
	}
	plain := errors.New("missing keys")
	if err := withDataHint(plain, &data.Dataset{C: 3, H: 32, W: 32}, data.Spec{}); err != plain {
		t.Errorf("channels-first data got a hint: %v", err)
	}
}
