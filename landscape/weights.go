package landscape

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/internal/clip"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/onnx"
)

// ErrNonFinite is wrapped by the error for weights holding NaN or Inf.
var ErrNonFinite = errors.New("weights are not finite")

// Weights are the weights of one checkpoint file, checked against the
// network they are for.
type Weights struct {
	Net   *nets.Net
	State *nets.StateDict
	File  surface.FileInfo // path and SHA-256
}

// LoadWeights reads the checkpoint at path for a model and checks it, the
// one way every command does: the network is built with mc (see
// [NewNet]), a zoo model's classes taken from the checkpoint's classifier
// when mc.Classes is 0 (so a CIFAR-100 checkpoint needs no flag) and its
// input channels from the first convolution when mc.InChannels is 0 (so
// neither does a Fashion-MNIST one where no data give them); the
// weights must fit it exactly (the error says which zoo models they fit
// instead) and be finite; the file's SHA-256 goes into the provenance.
func LoadWeights(path, model string, mc nets.Config) (*Weights, error) {
	sum := fileHash(path)
	sd, decoded, err := readCheckpoint(path, model)
	if err != nil {
		return nil, err
	}
	return checkWeightsOf(path, sd, decoded, model, mc, sum)
}

// readCheckpoint reads the checkpoint at path (see
// [checkpoint.LoadDecoded]) for model; an error reading a model that is
// its own checkpoint (an ONNX file) names it as the model.
func readCheckpoint(path, model string) (*nets.StateDict, *onnx.Model, error) {
	sd, _, decoded, err := checkpoint.LoadDecoded(path)
	if err != nil && path == model {
		return nil, nil, fmt.Errorf("landscape: model %s (the network and its weights): %w", model, err)
	}
	return sd, decoded, err
}

// CheckWeights builds the network for a checkpoint already read from path
// and checks the checkpoint as [LoadWeights] does.
func CheckWeights(path string, sd *nets.StateDict, model string, mc nets.Config) (*Weights, error) {
	return checkWeightsOf(path, sd, nil, model, mc, fileHash(path))
}

// checkWeightsOf is CheckWeights with the ONNX model checkpoint.LoadDecoded
// decoded from path (nil: none): a model that is its own checkpoint is
// then not decoded again for its network (a tenth of a second for
// resnet18's 45 MB, seconds for vgg11_bn's 515); sum gives the file's
// SHA-256 (see [fileHash]).
func checkWeightsOf(path string, sd *nets.StateDict, decoded *onnx.Model, model string, mc nets.Config, sum func() (string, error)) (*Weights, error) {
	modelSum := sum
	if path != model {
		decoded, modelSum = nil, nil // the checkpoint's graph and hash are not the model's
	}
	net, err := newNet(model, mc, sd, decoded, modelSum)
	if err != nil {
		return nil, err
	}
	if IsONNX(path) {
		sd = paramsOf(sd, net)
	}
	file, err := checkWeights(path, sd, net, sum)
	if err != nil {
		return nil, err
	}
	return &Weights{Net: net, State: sd, File: file}, nil
}

// loadWeightsOf reads another checkpoint of the same network (a target,
// a trajectory's checkpoint) and checks it as [LoadWeights] does.
func loadWeightsOf(path string, net *nets.Net) (*nets.StateDict, surface.FileInfo, error) {
	sum := fileHash(path)
	sd, _, err := checkpoint.Load(path)
	if err != nil {
		return nil, surface.FileInfo{}, err
	}
	if IsONNX(path) {
		sd = paramsOf(sd, net)
	}
	file, err := checkWeights(path, sd, net, sum)
	return sd, file, err
}

// checkWeights checks that the weights read from path fit net and are all
// finite, and returns the file's path and its SHA-256, which sum gives.
//
// A checkpoint with torchvision's ResNet names (downsample, fc) that fits
// once renamed to the zoo's (shortcut, linear) is renamed in place: the
// same network written in torchvision's style, as many CIFAR training
// scripts do. So is one whose every key has a first component that, taken
// off, makes it fit: the network as an attribute of a training module
// (PyTorch Lightning's self.model, "model.conv1.weight"). One that does
// not fit either way is explained.
func checkWeights(path string, sd *nets.StateDict, net *nets.Net, sum func() (string, error)) (surface.FileInfo, error) {
	if IsONNX(net.Name) {
		dropTied(sd, net)
	}
	err := net.Check(sd)
	if err != nil {
		if inner, ok := withoutCommonPrefix(sd); ok && net.Check(inner) == nil {
			*sd, err = *inner, nil
		}
	}
	if err != nil {
		if IsONNX(net.Name) {
			return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w\n  (the ONNX model's parameters are named as its state dict's keys when exported with %s)", path, err, onnx.ExportAdvice)
		}
		if nets.TorchvisionNames(sd) {
			renamed := nets.RenameTorchvision(sd)
			if net.Check(renamed) != nil {
				return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w\n  (the checkpoint names its layers as torchvision's ResNets do, downsample and fc; "+
					"renamed to the zoo's shortcut and linear it still does not fit %s: torchvision's ImageNet ResNets, with a 7x7 stem and max pooling, are not the reference's CIFAR ResNets of the zoo)", path, err, net.Name)
			}
			*sd = *renamed
		} else if hint := otherKindOfFile(sd, net); hint != "" {
			return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w: it is %s", path, nets.ErrMismatch, hint)
		} else if c := nets.InChannelsOf(net.Name, sd); c > 0 && c != net.Config.InChannels {
			return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w\n  (the checkpoint takes %d-channel input; the model was built for %d channels, as the data or --channels say)",
				path, err, c, net.Config.InChannels)
		} else if fits := nets.Identify(sd, net.Config); len(fits) > 0 {
			return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w\n  (the checkpoint fits model %s)", path, err, strings.Join(fits, ", "))
		} else {
			return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w", path, err)
		}
	}
	if bad := sd.NonFinite(); len(bad) > 0 {
		return surface.FileInfo{}, fmt.Errorf("landscape: checkpoint %s: %w: NaN or Inf in %s", path, ErrNonFinite, clip.Join(bad))
	}
	h, err := sum()
	return surface.FileInfo{Path: path, SHA256: h}, err
}

// otherKindOfFile says what sd, which does not fit net, is where its keys
// show it is another file of the tool's for that network: a direction
// file (x.<key> and y.<key>) or an optimizer's state (<key>.exp_avg,
// <key>.momentum_buffer, ...); "" otherwise.
func otherKindOfFile(sd *nets.StateDict, net *nets.Net) string {
	params := map[string]bool{}
	for _, p := range net.Params {
		params[p.Name] = true
	}
	names := sd.Names()
	if len(names) == 0 {
		return ""
	}
	directions, state := true, true
	for _, k := range names {
		_, rest, _ := strings.Cut(k, ".")
		directions = directions && (strings.HasPrefix(k, "x.") || strings.HasPrefix(k, "y.")) && params[rest]
		dot := strings.LastIndexByte(k, '.')
		state = state && dot > 0 && params[k[:dot]]
	}
	switch {
	case directions:
		return "a direction file (x.<key> and y.<key>, as 'landscape directions', 'trajectory' and 'plane' write them): give it as --directions"
	case state:
		return "an optimizer's state, as 'landscape train' writes beside each checkpoint: the checkpoint of epoch E is model_E, beside optimizer_E"
	}
	return ""
}

// withoutCommonPrefix returns sd with the first component of its keys
// taken off, where every key has the same one ("model." of
// "model.conv1.weight"), and false where they do not.
func withoutCommonPrefix(sd *nets.StateDict) (*nets.StateDict, bool) {
	names := sd.Names()
	if len(names) == 0 {
		return nil, false
	}
	first, _, ok := strings.Cut(names[0], ".")
	if !ok {
		return nil, false
	}
	prefix := first + "."
	for _, n := range names {
		if !strings.HasPrefix(n, prefix) {
			return nil, false
		}
	}
	inner := *sd // StripPrefix replaces the copy's tables, not sd's
	inner.StripPrefix(prefix)
	return &inner, true
}

// dropTied deletes from sd the second names of tied parameters: keys the
// network does not have whose tensor is, in shape and every bit, that of
// a key it has. A PyTorch state dict lists a tied parameter (a language
// model's output projection shared with its embedding) under each of its
// names; net.parameters(), directions and an ONNX export hold it once.
func dropTied(sd *nets.StateDict, net *nets.Net) {
	for _, k := range slices.Clone(sd.Names()) {
		if _, ok := net.Param(k); ok {
			continue
		}
		t, _ := sd.Get(k)
		for _, p := range net.Params {
			if u, ok := sd.Get(p.Name); ok && slices.Equal(u.Shape, t.Shape) && slices.EqualFunc(u.Data, t.Data, sameBits) {
				sd.Delete(k)
				break
			}
		}
	}
}

// sameBits reports whether a and b are the same float32, bit for bit.
func sameBits(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) }

// fileHash starts taking the SHA-256 of the file at path on another core,
// for the checkpoint's to be hashed while it is decoded and checked (a
// thirtieth of a second for resnet18's 45 MB), and returns the function
// that waits for it.
func fileHash(path string) func() (string, error) {
	return async(func() (string, error) { return fileSHA256(path) })
}

// async runs f on another goroutine and returns the function that waits
// for its results; it may be called any number of times.
func async[T any](f func() (T, error)) func() (T, error) {
	done := make(chan struct{})
	var v T
	var err error
	go func() {
		defer close(done)
		v, err = f()
	}()
	return func() (T, error) {
		<-done
		return v, err
	}
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("landscape: hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// CheckpointFor returns the checkpoint a model's weights come from:
// checkpoint, or where it is empty and model is an ONNX file, the model
// file itself, whose parameters are its weights.
func CheckpointFor(model, checkpoint string) string {
	if checkpoint == "" && IsONNX(model) {
		return model
	}
	return checkpoint
}

// IsONNX reports whether model names an ONNX file (by its extension,
// .onnx) rather than an architecture of the zoo.
func IsONNX(model string) bool { return strings.EqualFold(filepath.Ext(model), ".onnx") }

// NewNet builds the network model names: an architecture of the zoo,
// built with mc, its classes taken from the classifier of sd when
// mc.Classes is 0 and its input channels from the first convolution of sd
// when mc.InChannels is 0 (commands with data fill them from the data
// first); or the graph of an ONNX file lowered onto the engines'
// ops (see [onnx.Graph.Net]), named after the file, mc filling the input
// dimensions its export left dynamic, or where the engines cannot run it,
// a network without ops that the reference evaluator computes (see
// [onnx.Graph.ReferenceNet]).
func NewNet(model string, mc nets.Config, sd *nets.StateDict) (*nets.Net, error) {
	return newNet(model, mc, sd, nil, nil)
}

// newNet is NewNet with model's file already decoded as m (nil: not) and
// being hashed by sum (nil: not; see [fileHash]).
func newNet(model string, mc nets.Config, sd *nets.StateDict, m *onnx.Model, sum func() (string, error)) (*nets.Net, error) {
	if !IsONNX(model) {
		if mc.Classes == 0 && sd != nil {
			mc.Classes = nets.ClassesOf(model, sd)
		}
		if mc.InChannels == 0 && sd != nil {
			mc.InChannels = nets.InChannelsOf(model, sd)
		}
		return nets.New(model, mc)
	}
	if sum == nil {
		sum = fileHash(model)
	}
	if m == nil {
		var err error
		if m, err = onnx.Read(model, nil); err != nil {
			return nil, fmt.Errorf("landscape: model %s: %w", model, err)
		}
	}
	net, _, err := m.Graph.Net(filepath.Base(model), mc)
	if errors.Is(err, onnx.ErrNotLowerable) {
		// Not on the engines: the reference evaluator computes it.
		net, err = m.Graph.ReferenceNet(filepath.Base(model), mc)
	}
	if err != nil {
		return nil, fmt.Errorf("landscape: model %s: %w", model, err)
	}
	if mc.Classes != 0 && mc.Classes != net.Config.Classes {
		return nil, fmt.Errorf("landscape: model %s has %d classes, not %d", model, net.Config.Classes, mc.Classes)
	}
	if net.SHA256, err = sum(); err != nil {
		return nil, err
	}
	return net, nil
}

// paramsOf returns the entries of sd that are parameters of net: an ONNX
// file's weights less any floating-point constant its graph holds besides.
func paramsOf(sd *nets.StateDict, net *nets.Net) *nets.StateDict {
	out := &nets.StateDict{}
	for _, p := range net.Params {
		if t, ok := sd.Get(p.Name); ok {
			out.Set(p.Name, t)
		}
	}
	return out
}
