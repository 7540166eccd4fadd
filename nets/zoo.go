package nets

import (
	"fmt"
	"sort"
	"strings"
)

// Models returns the names of every architecture in the zoo, sorted: the
// names the reference's cifar10/model_loader.py accepts.
func Models() []string {
	names := make([]string, 0, len(zoo))
	for name := range zoo {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Describe returns a one-line description of the named architecture.
func Describe(name string) string { return zoo[name].about }

// New builds the named architecture for the given input and class sizes
// (zero fields of cfg mean 3x32x32 inputs and 10 classes).
//
// At 32x32 the architectures are exactly the reference's. For other image
// sizes the final average pool (avg_pool2d(out, 8) in the CIFAR ResNets,
// avg_pool2d(out, 4) in the ImageNet-style ResNets and DenseNet) becomes a
// global average over the final feature map, which is what it is at 32x32,
// and VGG9's first fully connected layer takes 256·h·w inputs, h and w being
// the feature-map size after its three ceil-mode max pools.
func New(name string, cfg Config) (*Net, error) {
	m, ok := zoo[name]
	if !ok {
		return nil, fmt.Errorf("nets: unknown model %q (known: %s)", name, strings.Join(Models(), ", "))
	}
	cfg = cfg.withDefaults()
	if cfg.InChannels < 1 || cfg.Height < 1 || cfg.Width < 1 || cfg.Classes < 1 {
		return nil, fmt.Errorf("nets: model %s: input %dx%dx%d with %d classes is not a valid size", name, cfg.InChannels, cfg.Height, cfg.Width, cfg.Classes)
	}
	b := NewBuilder(name, cfg)
	m.build(b)
	return b.Net()
}

type model struct {
	about string
	build func(*Builder)
}

var zoo = map[string]model{}

func init() {
	cifar := func(depth int, short bool, k int) func(*Builder) {
		n := (depth - 2) / 6
		return func(b *Builder) { resnetCIFAR(b, n, short, k) }
	}
	for _, d := range []int{20, 56, 110} {
		zoo[fmt.Sprintf("resnet%d", d)] = model{fmt.Sprintf("CIFAR ResNet-%d (3 stages of %d basic blocks, 16/32/64 channels)", d, (d-2)/6), cifar(d, true, 1)}
	}
	for _, d := range []int{20, 32, 44, 56, 110} {
		zoo[fmt.Sprintf("resnet%d_noshort", d)] = model{fmt.Sprintf("CIFAR ResNet-%d without skip connections", d), cifar(d, false, 1)}
	}
	zoo["resnet50_16_noshort"] = model{"CIFAR ResNet-50 (16/32/64 channels) without skip connections", cifar(50, false, 1)}
	for _, k := range []int{2, 4, 8} {
		zoo[fmt.Sprintf("wrn56_%d", k)] = model{fmt.Sprintf("CIFAR ResNet-56 %dx wider", k), cifar(56, true, k)}
		zoo[fmt.Sprintf("wrn56_%d_noshort", k)] = model{fmt.Sprintf("CIFAR ResNet-56 %dx wider, without skip connections", k), cifar(56, false, k)}
	}
	for _, k := range []int{2, 4} {
		zoo[fmt.Sprintf("wrn110_%d_noshort", k)] = model{fmt.Sprintf("CIFAR ResNet-110 %dx wider, without skip connections", k), cifar(110, false, k)}
	}
	imagenet := []struct {
		depth      int
		bottleneck bool
		blocks     [4]int
	}{
		{18, false, [4]int{2, 2, 2, 2}}, {34, false, [4]int{3, 4, 6, 3}}, {50, true, [4]int{3, 4, 6, 3}},
		{101, true, [4]int{3, 4, 23, 3}}, {152, true, [4]int{3, 8, 36, 3}},
	}
	for _, r := range imagenet {
		for _, short := range []bool{true, false} {
			name, about := fmt.Sprintf("resnet%d", r.depth), fmt.Sprintf("ImageNet-style ResNet-%d for CIFAR (64-512 channels)", r.depth)
			if !short {
				name, about = name+"_noshort", about+" without skip connections"
			}
			zoo[name] = model{about, func(b *Builder) { resnetImageNet(b, r.blocks, r.bottleneck, short) }}
		}
	}
	zoo["vgg9"] = model{"VGG-9 (7 convolutions with bias and batch norm, 2 fully connected layers)", vgg9}
	zoo["densenet121"] = model{"DenseNet-121 for CIFAR (growth rate 32, blocks 6/12/24/16)", densenet121}
}

// resnetCIFAR builds ResNet_cifar / WResNet_cifar of the reference: a 3x3
// stem, three stages of n post-activation basic blocks with 16k, 32k and 64k
// channels, option-B (1x1 convolution + BN) projections where the shape
// changes, global average pooling and a linear classifier.
func resnetCIFAR(b *Builder, n int, short bool, k int) {
	x := b.convBNReLU("conv1", "bn1", 0, 16*k, 3, 1, 1)
	for stage, planes := range []int{16 * k, 32 * k, 64 * k} {
		for i := range n {
			stride := 1
			if i == 0 && stage > 0 {
				stride = 2
			}
			x = b.basicBlock(fmt.Sprintf("layer%d.%d", stage+1, i), x, planes, stride, short)
		}
	}
	x = b.Op(Op{Kind: GlobalAvgPool, In: []int{x}})
	b.linear("linear", x, b.net.Config.Classes)
}

// resnetImageNet builds the reference's ResNet (kuangliu's CIFAR adaptation
// of the ImageNet ResNets): no max pool after the stem, four stages of
// 64-512 planes, basic or bottleneck (expansion 4) blocks.
func resnetImageNet(b *Builder, blocks [4]int, bottleneck, short bool) {
	x := b.convBNReLU("conv1", "bn1", 0, 64, 3, 1, 1)
	for stage, planes := range []int{64, 128, 256, 512} {
		for i := range blocks[stage] {
			stride := 1
			if i == 0 && stage > 0 {
				stride = 2
			}
			name := fmt.Sprintf("layer%d.%d", stage+1, i)
			if bottleneck {
				x = b.bottleneck(name, x, planes, stride, short)
			} else {
				x = b.basicBlock(name, x, planes, stride, short)
			}
		}
	}
	x = b.Op(Op{Kind: GlobalAvgPool, In: []int{x}})
	b.linear("linear", x, b.net.Config.Classes)
}

// vgg9 builds the reference's VGG('VGG9'): convolutions with bias, each
// followed by BN and ReLU, ceil-mode 2x2 max pools, then Linear + BN1d +
// ReLU and the classifier.
func vgg9(b *Builder) {
	x, idx := 0, 0
	for _, c := range []int{64, 64, -1, 128, 128, -1, 256, 256, 256, -1} {
		if c < 0 {
			x = b.Op(Op{Kind: MaxPool, In: []int{x}, Kernel: 2, Stride: 2, Ceil: true})
			idx++
			continue
		}
		x = b.conv(fmt.Sprintf("features.%d", idx), x, c, 3, 1, 1, true)
		x = b.batchNorm(fmt.Sprintf("features.%d", idx+1), x)
		x = b.Op(Op{Kind: ReLU, In: []int{x}})
		idx += 3
	}
	x = b.linear("fc.0", x, 256)
	x = b.batchNorm("fc.1", x)
	x = b.Op(Op{Kind: ReLU, In: []int{x}})
	b.linear("classifier", x, b.net.Config.Classes)
}

// densenet121 builds the reference's DenseNet(Bottleneck, [6,12,24,16],
// growth_rate=32): pre-activation bottlenecks whose output is concatenated
// in front of their input, and transitions halving channels and size.
func densenet121(b *Builder) {
	const growth = 32
	planes := 2 * growth
	x := b.conv("conv1", 0, planes, 3, 1, 1, false)
	for stage, n := range []int{6, 12, 24, 16} {
		for i := range n {
			name := fmt.Sprintf("dense%d.%d", stage+1, i)
			y := b.bnReLU(name+".bn1", x)
			y = b.conv(name+".conv1", y, 4*growth, 1, 1, 0, false)
			y = b.bnReLU(name+".bn2", y)
			y = b.conv(name+".conv2", y, growth, 3, 1, 1, false)
			x = b.Op(Op{Kind: Concat, In: []int{y, x}})
		}
		planes += n * growth
		if stage == 3 {
			break
		}
		planes /= 2
		name := fmt.Sprintf("trans%d", stage+1)
		y := b.bnReLU(name+".bn", x)
		y = b.conv(name+".conv", y, planes, 1, 1, 0, false)
		x = b.Op(Op{Kind: AvgPool, In: []int{y}, Kernel: 2, Stride: 2})
	}
	x = b.bnReLU("bn", x)
	x = b.Op(Op{Kind: GlobalAvgPool, In: []int{x}})
	b.linear("linear", x, b.net.Config.Classes)
}

// builder appends ops and their state-dict entries in PyTorch's
// registration order, tracking each value's per-sample shape.
func (b *Builder) conv(name string, x, out, k, stride, pad int, bias bool) int {
	in, _, _ := b.Shape(x)
	b.Param(name+".weight", Weight, out, in, k, k)
	if bias {
		b.Param(name+".bias", Weight, out)
	}
	return b.Op(Op{Kind: Conv, Name: name, In: []int{x}, Kernel: k, Stride: stride, Pad: pad, Bias: bias, C: out})
}

func (b *Builder) batchNorm(name string, x int) int {
	c, _, _ := b.Shape(x)
	b.Param(name+".weight", Weight, c)
	b.Param(name+".bias", Weight, c)
	b.Param(name+".running_mean", Buffer, c)
	b.Param(name+".running_var", Buffer, c)
	b.Param(name+".num_batches_tracked", Buffer)
	return b.Op(Op{Kind: BatchNorm, Name: name, In: []int{x}})
}

func (b *Builder) bnReLU(name string, x int) int {
	return b.Op(Op{Kind: ReLU, In: []int{b.batchNorm(name, x)}})
}

func (b *Builder) convBNReLU(convName, bnName string, x, out, k, stride, pad int) int {
	return b.Op(Op{Kind: ReLU, In: []int{b.batchNorm(bnName, b.conv(convName, x, out, k, stride, pad, false))}})
}

func (b *Builder) linear(name string, x, out int) int {
	c, h, w := b.Shape(x)
	b.Param(name+".weight", Weight, out, c*h*w)
	b.Param(name+".bias", Weight, out)
	return b.Op(Op{Kind: Linear, Name: name, In: []int{x}, C: out})
}

// shortcut returns x itself or, where the block changes the shape, an
// option-B projection: a strided 1x1 convolution and BN.
func (b *Builder) shortcut(name string, x, out, stride int) int {
	in, _, _ := b.Shape(x)
	if stride == 1 && in == out {
		return x
	}
	return b.batchNorm(name+".shortcut.1", b.conv(name+".shortcut.0", x, out, 1, stride, 0, false))
}

// basicBlock is the reference's BasicBlock (or BasicBlock_noshortcut):
// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)).
func (b *Builder) basicBlock(name string, x, planes, stride int, short bool) int {
	y := b.convBNReLU(name+".conv1", name+".bn1", x, planes, 3, stride, 1)
	y = b.batchNorm(name+".bn2", b.conv(name+".conv2", y, planes, 3, 1, 1, false))
	if short {
		y = b.Op(Op{Kind: Add, In: []int{y, b.shortcut(name, x, planes, stride)}})
	}
	return b.Op(Op{Kind: ReLU, In: []int{y}})
}

// bottleneck is the reference's Bottleneck (expansion 4): 1x1, strided 3x3
// and 1x1 convolutions, each with BN, the sum with the shortcut and a
// ReLU. Its Bottleneck_noshortcut ends at the third BN, without a ReLU:
// a quirk of the reference kept here, since checkpoints were trained so.
func (b *Builder) bottleneck(name string, x, planes, stride int, short bool) int {
	y := b.convBNReLU(name+".conv1", name+".bn1", x, planes, 1, 1, 0)
	y = b.convBNReLU(name+".conv2", name+".bn2", y, planes, 3, stride, 1)
	y = b.batchNorm(name+".bn3", b.conv(name+".conv3", y, 4*planes, 1, 1, 0, false))
	if !short {
		return y
	}
	y = b.Op(Op{Kind: Add, In: []int{y, b.shortcut(name, x, 4*planes, stride)}})
	return b.Op(Op{Kind: ReLU, In: []int{y}})
}
