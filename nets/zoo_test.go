package nets

import (
	"slices"
	"strings"
	"testing"
)

// The parameter counts of the reference's table (shared/research/reference.md
// §1.3), re-derived there from the PyTorch module definitions.
func TestZooMatchesReferenceCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		params        int
		stateEntries  int
		weightTensors int
	}{
		{"resnet20", 272474, 128, 65},
		{"resnet56", 855770, 344, 173},
		{"resnet56_noshort", 853018, 332, 167},
		{"resnet110", 1730714, 668, 335},
		{"wrn56_2", 3412394, 344, 173},
		{"wrn56_4", 13628234, 344, 173},
		{"wrn56_8", 54470282, 344, 173},
		{"vgg9", 2789706, 58, 34},
		{"densenet121", 6956298, 722, 362},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n, err := New(tt.name, Config{})
			if err != nil {
				t.Fatal(err)
			}
			weights := 0
			for _, p := range n.Params {
				if p.Kind == Weight {
					weights++
				}
			}
			if got := n.NumParams(); got != tt.params {
				t.Errorf("params = %d, want %d", got, tt.params)
			}
			if got := len(n.Params); got != tt.stateEntries {
				t.Errorf("state-dict entries = %d, want %d", got, tt.stateEntries)
			}
			if weights != tt.weightTensors {
				t.Errorf("parameter tensors = %d, want %d", weights, tt.weightTensors)
			}
			last := n.Ops[len(n.Ops)-1]
			if last.Kind != Linear || last.C != 10 {
				t.Errorf("last op = %v with %d outputs, want linear with 10", last.Kind, last.C)
			}
		})
	}
}

// All 29 models of the reference build for CIFAR-sized and for MNIST-sized
// inputs, their first weight taking the input's channels.
func TestEveryModelBuildsForSmallInputs(t *testing.T) {
	t.Parallel()
	if got := len(Models()); got != 29 {
		t.Errorf("zoo has %d models, the reference has 29", got)
	}
	for _, name := range Models() {
		for _, cfg := range []Config{{}, {InChannels: 1, Height: 28, Width: 28, Classes: 100}} {
			n, err := New(name, cfg)
			if err != nil {
				t.Errorf("%s %+v: %v", name, cfg, err)
				continue
			}
			if p, _ := n.Param(n.Params[0].Name); p.Shape[1] != n.Config.InChannels {
				t.Errorf("%s: first weight %v does not take %d channels", name, p.Shape, n.Config.InChannels)
			}
		}
	}
}

// A checkpoint says the input channels it was trained on: its first
// convolution is the one tensor whose shape they change, so InChannelsOf
// reads them back for every model of the zoo, and gives 0 (not a guess)
// for a checkpoint without that tensor.
func TestInChannelsOfReadsTheFirstConvolution(t *testing.T) {
	t.Parallel()
	for _, name := range Models() {
		rgb, err := New(name, Config{})
		if err != nil {
			t.Fatal(err)
		}
		gray, err := New(name, Config{InChannels: 1})
		if err != nil {
			t.Fatal(err)
		}
		sd := &StateDict{}
		for i, p := range gray.Params {
			sd.Set(p.Name, NewTensor(p.Shape...))
			if i > 0 && !slices.Equal(p.Shape, rgb.Params[i].Shape) {
				t.Errorf("%s: %s is %v for 1 channel, %v for 3: the channels change more than the first convolution", name, p.Name, p.Shape, rgb.Params[i].Shape)
			}
		}
		if got := InChannelsOf(name, sd); got != 1 {
			t.Errorf("%s: InChannelsOf a 1-channel checkpoint = %d, want 1", name, got)
		}
		sd.Delete(gray.Params[0].Name)
		if got := InChannelsOf(name, sd); got != 0 {
			t.Errorf("%s: InChannelsOf a checkpoint without %s = %d, want 0", name, gray.Params[0].Name, got)
		}
	}
}

// A model whose layers would shrink the input below one pixel, and a model
// name the zoo does not know, are errors.
func TestTooSmallInputAndUnknownModelAreErrors(t *testing.T) {
	t.Parallel()
	if _, err := New("densenet121", Config{Height: 1, Width: 1}); err == nil {
		t.Error("densenet121 on 1x1 images built without error")
	}
	if _, err := New("nosuchnet", Config{}); err == nil {
		t.Error("unknown model built without error")
	}
}

// poolSize gives the output sizes of PyTorch's pooling layers, in floor
// and in ceil mode, with and without padding.
func TestPoolSizeMatchesPyTorch(t *testing.T) {
	t.Parallel()
	// nn.MaxPool2d(k, s, p, ceil_mode=ceil)(torch.zeros(1, 1, n, n)) output sizes.
	for _, tt := range []struct {
		n, k, s, p int
		ceil       bool
		want       int
	}{
		{32, 2, 2, 0, true, 16}, {7, 2, 2, 0, true, 4}, {7, 2, 2, 0, false, 3}, {1, 2, 2, 0, true, 1}, {2, 3, 2, 0, true, 1},
		{1, 2, 2, 0, false, 0}, {5, 3, 2, 0, true, 2}, {6, 3, 2, 0, true, 3},
		{32, 3, 2, 1, false, 16}, {32, 3, 2, 1, true, 17}, {7, 3, 2, 1, true, 4}, {6, 3, 2, 1, true, 4},
		{5, 2, 2, 1, true, 3}, {1, 3, 2, 1, true, 1}, {8, 3, 3, 1, true, 3}, {4, 2, 2, 1, false, 3},
	} {
		if got := poolSize(tt.n, tt.k, tt.s, tt.p, tt.ceil); got != tt.want {
			t.Errorf("poolSize(%d, k=%d, s=%d, p=%d, ceil=%v) = %d, want %d", tt.n, tt.k, tt.s, tt.p, tt.ceil, got, tt.want)
		}
	}
}

// A checkpoint of another depth lacks whole blocks: the error lists them by
// module with their count, where one key a line would run to hundreds
// (ResNet-20 given for ResNet-56 lacks 180), and a few keys in full.
func TestCheckListsManyKeysByModule(t *testing.T) {
	t.Parallel()
	small, err := New("resnet20", Config{})
	if err != nil {
		t.Fatal(err)
	}
	sd := &StateDict{}
	for _, p := range small.Params {
		sd.Set(p.Name, NewTensor(p.Shape...))
	}
	deep, err := New("resnet56", Config{})
	if err != nil {
		t.Fatal(err)
	}
	msg := deep.Check(sd).Error()
	for _, want := range []string{"180 missing keys: layer1.3.* (10), layer1.4.* (10),", "layer3.8.* (10)"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "layer1.3.bn1.weight") {
		t.Errorf("error lists the keys one by one:\n%s", msg)
	}
	sd.Delete("layer2.0.bn1.weight")
	sd.Set("extra.weight", NewTensor(1))
	msg = small.Check(sd).Error()
	for _, want := range []string{"1 missing key: layer2.0.bn1.weight", "1 unexpected key: extra.weight"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
}
