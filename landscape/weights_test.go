package landscape

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// TestTorchvisionNamesAreMappedOrExplained loads a zoo ResNet-18 saved
// with torchvision's names (downsample, fc), as CIFAR scripts written in
// torchvision's style save it: it loads, renamed. With torchvision's 7x7
// stem it cannot fit, and the error says why instead of listing keys.
func TestTorchvisionNamesAreMappedOrExplained(t *testing.T) {
	t.Parallel()
	cfg := nets.Config{Height: 8, Width: 8}
	net, err := nets.New("resnet18", cfg)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, stem []int) string {
		sd := &nets.StateDict{}
		for _, p := range net.Params {
			shape := p.Shape
			if p.Name == "conv1.weight" && stem != nil {
				shape = stem
			}
			key := strings.ReplaceAll(p.Name, ".shortcut.", ".downsample.")
			key = strings.Replace(key, "linear.", "fc.", 1)
			sd.Set(key, nets.NewTensor(shape...))
		}
		path := filepath.Join(t.TempDir(), name)
		if err := safetensors.Write(path, sd, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	w, err := LoadWeights(write("cifar.safetensors", nil), "resnet18", cfg)
	if err != nil {
		t.Fatalf("torchvision-named CIFAR ResNet-18: %v", err)
	}
	if _, ok := w.State.Get("layer2.0.shortcut.0.weight"); !ok {
		t.Errorf("renamed weights lack layer2.0.shortcut.0.weight: %v", w.State.Names()[:5])
	}
	_, err = LoadWeights(write("imagenet.safetensors", []int{64, 3, 7, 7}), "resnet18", cfg)
	if err == nil || !strings.Contains(err.Error(), "torchvision's ImageNet ResNets") {
		t.Errorf("torchvision stem: %v", err)
	}
}

// A state dict whose every key has the same first component, the network
// being an attribute of a training module (Lightning's self.model), or
// torch.compile's _orig_mod. in DataParallel's module., loads; one whose
// keys share a component without fitting once it is taken off is still
// explained key by key.
func TestWrappersPrefixesAreTakenOff(t *testing.T) {
	t.Parallel()
	cfg := nets.Config{Height: 8, Width: 8}
	net, err := nets.New("resnet20", cfg)
	if err != nil {
		t.Fatal(err)
	}
	write := func(prefix string) string {
		sd := &nets.StateDict{}
		for _, p := range net.Params {
			sd.Set(prefix+p.Name, nets.NewTensor(p.Shape...))
		}
		path := filepath.Join(t.TempDir(), "w.safetensors")
		if err := safetensors.Write(path, sd, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for _, prefix := range []string{"model.", "_orig_mod.", "module._orig_mod."} {
		w, err := LoadWeights(write(prefix), "resnet20", cfg)
		if err != nil {
			t.Errorf("keys under %q: %v", prefix, err)
			continue
		}
		if _, ok := w.State.Get("conv1.weight"); !ok {
			t.Errorf("keys under %q: loaded as %v", prefix, w.State.Names()[:3])
		}
	}
	if _, err := LoadWeights(write("model.extra."), "resnet20", cfg); err == nil || !strings.Contains(err.Error(), "missing keys") {
		t.Errorf("keys under model.extra.: %v", err)
	}
}

// A direction file or an optimizer's state given as a checkpoint is named
// for what it is, not listed key by key.
func TestOtherFilesOfTheToolAreNotCheckpoints(t *testing.T) {
	t.Parallel()
	cfg := nets.Config{Height: 8, Width: 8}
	net, err := nets.New("resnet20", cfg)
	if err != nil {
		t.Fatal(err)
	}
	write := func(key func(string) []string) string {
		sd := &nets.StateDict{}
		for _, p := range net.Params {
			for _, k := range key(p.Name) {
				sd.Set(k, nets.NewTensor(p.Shape...))
			}
		}
		path := filepath.Join(t.TempDir(), "f.safetensors")
		if err := safetensors.Write(path, sd, nil); err != nil {
			t.Fatal(err)
		}
		return path
	}
	for name, c := range map[string]struct {
		key  func(string) []string
		want string
	}{
		"directions": {func(k string) []string { return []string{"x." + k, "y." + k} }, "it is a direction file (x.<key> and y.<key>"},
		"state":      {func(k string) []string { return []string{k + ".exp_avg", k + ".exp_avg_sq"} }, "it is an optimizer's state"},
	} {
		_, err := LoadWeights(write(c.key), "resnet20", cfg)
		if !errors.Is(err, nets.ErrMismatch) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "missing keys") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
