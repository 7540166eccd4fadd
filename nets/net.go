package nets

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Config sets the input and output sizes of a zoo architecture. The zero
// value of each field means the reference's CIFAR-10 setting: 3 input
// channels, 32x32 images, 10 classes.
type Config struct {
	InChannels int
	Height     int
	Width      int
	Classes    int
	// Seq is, for a language model (an ONNX graph taking token ids
	// N x Seq and giving logits N x Seq x Classes, the vocabulary), the
	// positions of a sample, each predicting its own next token; its input
	// is then 1 x 1 x Seq. It is 0 for an image classifier.
	Seq int
}

// Targets returns the rows of logits, and labels, per sample: 1 for an
// image classifier, Seq for a language model.
func (c Config) Targets() int { return max(c.Seq, 1) }

// withDefaults returns c with zero fields set to the CIFAR-10 defaults,
// and no sequence: the zoo's networks are image classifiers.
func (c Config) withDefaults() Config {
	c.Seq = 0
	if c.InChannels == 0 {
		c.InChannels = 3
	}
	if c.Height == 0 {
		c.Height = 32
	}
	if c.Width == 0 {
		c.Width = 32
	}
	if c.Classes == 0 {
		c.Classes = 10
	}
	return c
}

// ParamKind tells a learnable parameter (an nn.Parameter, moved by
// directions in "weights" mode) from a buffer (batch-norm running
// statistics and num_batches_tracked, moved only in "states" mode).
type ParamKind int

const (
	Weight ParamKind = iota // a learnable parameter
	Buffer                  // a running statistic or counter
)

// Param describes one state-dict entry of an architecture.
type Param struct {
	Name  string
	Shape []int
	Kind  ParamKind
}

// OpKind names the operations a forward pass is made of.
type OpKind int

const (
	// Conv is a 2D convolution with weight Name+".weight" [O, I/G, K, K],
	// stride Stride, zero padding Pad, and a bias Name+".bias" if Bias.
	// With G = Groups > 1 it is grouped: output channels [g·O/G, (g+1)·O/G)
	// read input channels [g·I/G, (g+1)·I/G) alone; G = I is depthwise.
	Conv OpKind = iota
	// BatchNorm is batch normalisation in eval mode over the channel axis
	// (BatchNorm2d on NCHW values, BatchNorm1d on NC values) with
	// Name+".weight", ".bias", ".running_mean", ".running_var" and epsilon
	// [Op.BNEps].
	BatchNorm
	// ReLU is max(x, 0).
	ReLU
	// Add is the element-wise sum of its two inputs.
	Add
	// MaxPool takes the maximum over Kernel x Kernel windows with stride
	// Stride, the input padded by Pad on every side (padding never wins,
	// as PyTorch's -inf padding); with Ceil the output size rounds up, as
	// PyTorch's ceil_mode. Windows cover only the valid part of the input.
	MaxPool
	// AvgPool averages over Kernel x Kernel windows with stride Stride,
	// rounding the output size down, without padding.
	AvgPool
	// GlobalAvgPool averages each channel over the whole feature map,
	// giving an N x C x 1 x 1 value.
	GlobalAvgPool
	// Linear is x·Wᵀ + b with Name+".weight" [out, in] and Name+".bias",
	// applied to its input flattened to N x (C·H·W) as out.view(N, -1) does.
	Linear
	// Concat joins its inputs along the channel axis in the order given,
	// as torch.cat(inputs, 1).
	Concat
	// Clip is min(max(x, Lo), Hi), NaN passing: nn.ReLU6 is Clip(0, 6),
	// nn.Hardtanh Clip(-1, 1).
	Clip
	// Sigmoid is 1/(1+exp(-x)); nn.SiLU exports as x·Sigmoid(x), a Mul.
	Sigmoid
	// HardSigmoid is PyTorch's hardsigmoid, min(max(x+3, 0), 6)/6.
	HardSigmoid
	// HardSwish is PyTorch's hardswish, x·min(max(x+3, 0), 6)/6, rounded
	// in that order.
	HardSwish
	// Mul is the element-wise product of its two inputs. The second has
	// the shape of the first, or is C x 1 x 1 and scales every pixel of
	// its channel (squeeze-and-excitation).
	Mul
	// ChannelShuffle interleaves Groups groups of channels: output channel
	// j is input channel (j mod G)·(C/G) + j div G, as
	// x.view(N, G, C/G, H, W).transpose(1, 2).reshape(N, C, H, W) does
	// (ShuffleNet).
	ChannelShuffle
	// Slice keeps channels [From, To) of its input, as x[:, From:To] and
	// torch.chunk do.
	Slice
)

var opNames = [...]string{"conv", "batchnorm", "relu", "add", "maxpool", "avgpool", "globalavgpool", "linear", "concat",
	"clip", "sigmoid", "hardsigmoid", "hardswish", "mul", "channelshuffle", "slice"}

func (k OpKind) String() string {
	if int(k) < len(opNames) {
		return opNames[k]
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}

// Op is one step of a forward pass. Values are numbered: value 0 is the
// network input and op i produces value i+1. Every value is a 4D NCHW array
// (a Linear output is N x out x 1 x 1).
type Op struct {
	Kind OpKind
	// Name is the state-dict prefix of the op's parameters, e.g.
	// "layer1.0.conv1"; empty for ops without parameters.
	Name string
	// In lists the values the op reads.
	In []int
	// Kernel, Stride and Pad give the window of Conv and pooling ops.
	Kernel, Stride, Pad int
	// Ceil selects ceil_mode for MaxPool.
	Ceil bool
	// Bias says whether a Conv has a bias.
	Bias bool
	// Groups is the number of groups of a Conv (0 and 1 mean one) or of
	// a ChannelShuffle.
	Groups int
	// From and To are the channels a Slice keeps, [From, To).
	From, To int
	// Eps is a BatchNorm's epsilon; 0 means BatchNorm2d's default, 1e-5
	// (see [Op.BNEps]).
	Eps float32
	// Lo and Hi are the bounds of a Clip.
	Lo, Hi float32
	// C, H, W is the shape of the op's output for one sample.
	C, H, W int
}

// DefaultEps is BatchNorm2d's default epsilon, that of a BatchNorm whose
// Eps is 0.
const DefaultEps = 1e-5

// BNEps is the epsilon of a BatchNorm op, as the float32 PyTorch's kernels
// add to the running variance.
func (o *Op) BNEps() float32 {
	if o.Eps == 0 {
		return DefaultEps
	}
	return o.Eps
}

// Group returns the number of groups of a Conv, at least 1.
func (o *Op) Group() int { return max(o.Groups, 1) }

// Depthwise reports whether o is a depthwise convolution of inC input
// channels: grouped, one input and one output channel per group.
func (o *Op) Depthwise(inC int) bool {
	return o.Kind == Conv && o.Group() > 1 && o.Group() == inC && o.C == inC
}

// Net is an architecture: its state-dict layout and its forward pass. A Net
// holds no weights; backends combine it with a [StateDict].
type Net struct {
	Name   string
	Config Config
	// Params lists the state-dict entries in PyTorch's order.
	Params []Param
	// Ops is the forward pass; the last op's output is the logits,
	// N x Classes x 1 x 1.
	Ops []Op
	// Forward, if not nil, computes the logits instead of Ops, which are
	// then empty: for a network the engines cannot run (an ONNX graph of
	// other operators), evaluated by a reference interpreter. It returns
	// the n × Classes logits of the n samples of x (n × C·H·W values) at
	// the given weights, using the backend's kernels k where it can (nil:
	// its own loops), and must be safe for concurrent use.
	Forward func(x []float32, n int, weights *StateDict, k *Kernels) ([]float32, error)
	// Graph is what Forward interprets, for a backend that interprets it
	// itself: the *onnx.Graph of a network given by an ONNX file, which
	// the CUDA backend runs on the GPU. Package nets cannot name the type,
	// which is defined in a package that imports it.
	Graph any
	// SHA256 fingerprints the file the network was read from (an ONNX
	// model's), for the provenance of what is computed with it: a graph
	// changed without a parameter changing (another activation) is
	// another network. It is empty for the zoo's architectures, which
	// Name and Config define.
	SHA256 string
}

// Kernels are a backend's fast routines, lent to a [Net.Forward]
// interpreter for the work it would otherwise do in plain loops.
type Kernels struct {
	// MatMul, if not nil, sets c to a·b, or with transB to a·bᵀ:
	// row-major float32 matrices, a m×k, b k×n (n×k with transB), c m×n.
	// One goroutine's: a caller runs it on its own.
	MatMul func(transB bool, m, n, k int, a, b, c []float32)
}

// Param returns the description of the named state-dict entry.
func (n *Net) Param(name string) (Param, bool) {
	for _, p := range n.Params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// NumParams returns the number of learnable scalars (Weight entries).
func (n *Net) NumParams() int {
	total := 0
	for _, p := range n.Params {
		if p.Kind == Weight {
			total += NumElements(p.Shape)
		}
	}
	return total
}

// ErrMismatch is wrapped by the error [Net.Check] returns when a state
// dict does not fit an architecture.
var ErrMismatch = errors.New("checkpoint does not fit the model")

// Check verifies that sd holds exactly the entries of n with the right
// shapes. A missing num_batches_tracked is tolerated (PyTorch 0.4.0 did
// not save it). The error lists every missing, unexpected and mis-shaped
// key, not only the first (many missing or unexpected keys by module).
func (n *Net) Check(sd *StateDict) error {
	var missing, shape, extra []string
	want := make(map[string]bool, len(n.Params))
	for _, p := range n.Params {
		want[p.Name] = true
		t, ok := sd.Get(p.Name)
		switch {
		case !ok && strings.HasSuffix(p.Name, ".num_batches_tracked"):
		case !ok:
			missing = append(missing, p.Name)
		case !slices.Equal(t.Shape, p.Shape):
			shape = append(shape, fmt.Sprintf("%s: shape %v in checkpoint, model wants %v", p.Name, t.Shape, p.Shape))
		}
	}
	for _, k := range sd.Names() {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(shape)+len(extra) == 0 {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s", n.Name)
	list := func(what string, keys []string) {
		if len(keys) == 0 {
			return
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "\n  %d %s: %s", len(keys), plural(what, len(keys)), keyList(keys))
	}
	list("missing key", missing)
	list("unexpected key", extra)
	if len(shape) > 0 {
		fmt.Fprintf(&b, "\n  %d %s:", len(shape), plural("mis-shaped key", len(shape)))
		for _, s := range shape {
			b.WriteString("\n    " + s)
		}
	}
	return fmt.Errorf("nets: %w: %s", ErrMismatch, b.String())
}

// keyList writes sorted keys for an error: each of them, or where they
// are more than a reader takes in (a ResNet-20 checkpoint given for a
// ResNet-56 lacks 180), each module they fall under (the first two parts of
// their names) with how many there are: "layer1.3.* (10), layer1.4.* (10),
// ...".
func keyList(keys []string) string {
	const most = 24
	if len(keys) <= most {
		return strings.Join(keys, ", ")
	}
	var groups []string
	for i := 0; i < len(keys); {
		prefix := modulePrefix(keys[i])
		j := i + 1
		for j < len(keys) && modulePrefix(keys[j]) == prefix {
			j++
		}
		if j-i == 1 {
			groups = append(groups, keys[i])
		} else {
			groups = append(groups, fmt.Sprintf("%s.* (%d)", prefix, j-i))
		}
		i = j
	}
	return strings.Join(groups, ", ")
}

// modulePrefix is the first two dot-separated parts of a key ("layer1.3"
// of "layer1.3.bn1.weight"), the first of a key of two ("fc" of
// "fc.weight"), or a key of one part itself.
func modulePrefix(key string) string {
	parts := strings.SplitN(key, ".", 3)
	switch len(parts) {
	case 1:
		return key // its own group
	case 2:
		return parts[0]
	}
	return parts[0] + "." + parts[1]
}

// plural is what, or for n other than 1, whats.
func plural(what string, n int) string {
	if n == 1 {
		return what
	}
	return what + "s"
}

// ClassesOf returns the number of classes a checkpoint's classifier has
// for the named architecture (the rows of its last weight), or 0 if the
// checkpoint lacks that tensor.
func ClassesOf(model string, sd *StateDict) int {
	n, err := New(model, Config{})
	if err != nil {
		return 0
	}
	for i := len(n.Params) - 1; i >= 0; i-- {
		p := n.Params[i]
		if p.Kind == Weight && len(p.Shape) == 2 {
			if t, ok := sd.Get(p.Name); ok && len(t.Shape) == 2 {
				return t.Shape[0]
			}
			return 0
		}
	}
	return 0
}

// InChannelsOf returns the input channels a checkpoint's first
// convolution takes for the named architecture (the second dimension of
// its first 4-D weight, the one weight whose shape follows
// [Config.InChannels]), or 0 if the checkpoint lacks that tensor or holds
// it in another rank.
func InChannelsOf(model string, sd *StateDict) int {
	n, err := New(model, Config{})
	if err != nil {
		return 0
	}
	for _, p := range n.Params {
		if p.Kind == Weight && len(p.Shape) == 4 {
			if t, ok := sd.Get(p.Name); ok && len(t.Shape) == 4 && t.Shape[1] > 0 {
				return t.Shape[1]
			}
			return 0
		}
	}
	return 0
}

// Identify returns the zoo architectures that sd fits, for input size
// and channels as in cfg and the checkpoint's own class count: a hint for
// the error about a checkpoint given with the wrong --model.
func Identify(sd *StateDict, cfg Config) []string {
	var fits []string
	for _, name := range Models() {
		c := cfg
		c.Classes = ClassesOf(name, sd)
		if c.Classes == 0 {
			continue
		}
		if n, err := New(name, c); err == nil && n.Check(sd) == nil {
			fits = append(fits, name)
		}
	}
	return fits
}

// TorchvisionNames reports whether sd names its layers as torchvision's
// ResNets do: a projection shortcut "downsample" and a classifier "fc",
// where the zoo says "shortcut" and "linear".
func TorchvisionNames(sd *StateDict) bool {
	_, fc := sd.Get("fc.weight")
	return fc || slices.ContainsFunc(sd.Names(), func(k string) bool { return strings.Contains(k, ".downsample.") })
}

// RenameTorchvision returns sd with torchvision's ResNet names turned into
// the zoo's: ".downsample." becomes ".shortcut." and "fc." becomes
// "linear.". The tensors are shared, not copied.
func RenameTorchvision(sd *StateDict) *StateDict {
	out := &StateDict{}
	for _, k := range sd.Names() {
		t, _ := sd.Get(k)
		name := strings.ReplaceAll(k, ".downsample.", ".shortcut.")
		if rest, ok := strings.CutPrefix(name, "fc."); ok {
			name = "linear." + rest
		}
		out.Set(name, t)
	}
	return out
}
