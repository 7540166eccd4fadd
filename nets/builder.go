package nets

import (
	"fmt"
	"slices"
)

// Builder assembles a [Net] op by op, computing the shape of every value
// as the ops are added: the zoo's architectures are built with it, and so
// is any other network made of the ops of [OpKind] (an ONNX graph lowered
// onto them, a Go user's own model).
type Builder struct {
	net    *Net
	shapes [][3]int // C, H, W of each value
	err    error
}

// NewBuilder returns a builder of a network called name whose input,
// value 0, is cfg.InChannels x cfg.Height x cfg.Width per sample.
func NewBuilder(name string, cfg Config) *Builder {
	return &Builder{net: &Net{Name: name, Config: cfg}, shapes: [][3]int{{cfg.InChannels, cfg.Height, cfg.Width}}}
}

// Shape returns the per-sample shape of value v.
func (b *Builder) Shape(v int) (c, h, w int) { s := b.shapes[v]; return s[0], s[1], s[2] }

// Param appends a state-dict entry; entries are kept in the order given,
// which should be PyTorch's (random directions are drawn in it).
func (b *Builder) Param(name string, kind ParamKind, shape ...int) {
	b.net.Params = append(b.net.Params, Param{Name: name, Shape: slices.Clone(shape), Kind: kind})
}

// Op appends o, sets its output shape (o.C is read only for Conv and
// Linear, whose output channels it is) and returns its value number.
func (b *Builder) Op(o Op) int {
	c, h, w := b.Shape(o.In[0])
	switch o.Kind {
	case Conv:
		if (c%o.Group() != 0 || o.C%o.Group() != 0) && b.err == nil {
			b.err = fmt.Errorf("conv %s: %d groups do not divide its %d input and %d output channels", o.Name, o.Group(), c, o.C)
		}
		h = (h+2*o.Pad-o.Kernel)/o.Stride + 1
		w = (w+2*o.Pad-o.Kernel)/o.Stride + 1
		c = o.C
	case MaxPool, AvgPool:
		h, w = poolSize(h, o.Kernel, o.Stride, o.Pad, o.Ceil), poolSize(w, o.Kernel, o.Stride, o.Pad, o.Ceil)
	case GlobalAvgPool:
		h, w = 1, 1
	case Linear:
		c, h, w = o.C, 1, 1
	case Concat:
		c = 0
		for _, v := range o.In {
			c += b.shapes[v][0]
		}
	case ChannelShuffle:
		if (o.Groups < 1 || c%o.Groups != 0) && b.err == nil {
			b.err = fmt.Errorf("channel shuffle of %d channels in %d groups", c, o.Groups)
		}
	case Slice:
		if !(0 <= o.From && o.From < o.To && o.To <= c) && b.err == nil {
			b.err = fmt.Errorf("slice of channels [%d, %d) of %d", o.From, o.To, c)
		}
		c = o.To - o.From
	}
	if (h < 1 || w < 1) && b.err == nil {
		b.err = fmt.Errorf("the input is too small: %s %s leaves a %dx%d feature map", o.Kind, o.Name, h, w)
	}
	o.C, o.H, o.W = c, h, w
	b.net.Ops = append(b.net.Ops, o)
	b.shapes = append(b.shapes, [3]int{c, h, w})
	return len(b.shapes) - 1
}

// Net returns the network built, or the first error met: an input too
// small for the ops.
func (b *Builder) Net() (*Net, error) {
	if b.err != nil {
		cfg := b.net.Config
		return nil, fmt.Errorf("nets: model %s with %dx%dx%d inputs: %w", b.net.Name, cfg.InChannels, cfg.Height, cfg.Width, b.err)
	}
	return b.net, nil
}

// poolSize is PyTorch's pooling output size (pooling_output_shape, dilation 1).
func poolSize(n, k, s, p int, ceil bool) int {
	if !ceil {
		return floorDiv(n+2*p-k, s) + 1
	}
	out := floorDiv(n+2*p-k+s-1, s) + 1
	if (out-1)*s >= n+p { // the last window must start inside the input or its left padding
		out--
	}
	return out
}

// floorDiv is a/b rounded toward negative infinity, as PyTorch's div_rtn.
func floorDiv(a, b int) int {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
