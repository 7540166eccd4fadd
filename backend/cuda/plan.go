package cuda

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/landscape-go/landscape/backend/internal/slot"
	"github.com/landscape-go/landscape/nets"
)

// step is one kernel sequence of a forward pass compiled for the GPU. The
// op (a convolution, linear layer, pooling or concatenation; or, for an
// element-wise step, the first op of its chain) is followed by one
// epilogue pass that applies a per-channel scale and shift (the bias and
// a following eval-mode batch norm), adds a residual and applies a ReLU.
// Conv → BN → Add → ReLU, the core of a residual block, is one step.
type step struct {
	op       nets.Op
	in       []int    // slots of the op's inputs; inputSlot for the network input
	inShape  [][3]int // per-sample C, H, W of each input
	out      int      // slot of the result
	outShape [3]int
	fold     int  // index in plan.folds of the scale and shift, or -1
	res      int  // slot of the residual added before the ReLU, or -1
	relu     bool // whether a ReLU ends the step
}

// inputSlot stands for the network input, which is read in place from the
// dataset resident on the device.
const inputSlot = -1

// fold is a per-channel scale and shift computed at each point: a conv or
// linear bias (bias, a state-dict key, or ""), then the batch norm with
// state-dict prefix bn (or "").
type fold struct {
	bias, bn string
	eps      float32 // the batch norm's
	channels int
	off      int // offset in the evaluator's scale and shift buffers
}

// plan is a forward pass compiled for the GPU.
type plan struct {
	steps    []step
	folds    []fold
	channels int   // total channels over folds
	slotSize []int // per-sample floats of each slot
	logits   int   // slot of the output
	classes  int
}

// compile fuses each conv or linear op with the batch norm, residual add
// and ReLU that only it feeds, and the element-wise ops with what follows
// them likewise, then orders the steps and assigns buffers. A fused step
// runs where its last op was; residual blocks build their shortcut after
// the main branch, so the step moves past the shortcut's ops.
func compile(n *nets.Net) (*plan, error) {
	ops := n.Ops
	nv := len(ops) + 1
	readers := make([]int, nv)
	for _, o := range ops {
		for _, v := range o.In {
			readers[v]++
		}
	}
	// soleReader returns the op that alone reads v, once, or -1.
	consumed := make([]bool, len(ops)) // fused into an earlier step
	soleReader := func(v int) int {
		if readers[v] != 1 {
			return -1
		}
		for j := v; j < len(ops); j++ { // op v-1 made v, so readers come later
			if slices.Contains(ops[j].In, v) && !consumed[j] {
				return j
			}
		}
		return -1
	}
	shape := make([][3]int, nv)
	shape[0] = [3]int{n.Config.InChannels, n.Config.Height, n.Config.Width}
	for i, o := range ops {
		shape[i+1] = [3]int{o.C, o.H, o.W}
	}

	type fused struct {
		st     step
		inputs []int // values read: the op's inputs, then the residual
		result int   // value produced
		pos    int   // index of the last op absorbed
	}
	p := &plan{classes: n.Config.Classes}
	var steps []fused
	for i, o := range ops {
		if consumed[i] {
			continue
		}
		f := fused{st: step{op: o, fold: -1, res: -1}, inputs: slices.Clone(o.In), result: i + 1, pos: i}
		absorb := func(j int) {
			consumed[j] = true
			f.result, f.pos = j+1, j
		}
		elementwise := false
		switch o.Kind {
		case nets.Conv, nets.Linear:
			fd := fold{channels: o.C}
			if o.Kind == nets.Linear || o.Bias {
				fd.bias = o.Name + ".bias"
			}
			if j := soleReader(f.result); j >= 0 && ops[j].Kind == nets.BatchNorm {
				fd.bn, fd.eps = ops[j].Name, ops[j].BNEps()
				absorb(j)
			}
			if fd.bias != "" || fd.bn != "" {
				f.st.fold = p.addFold(fd)
			}
			elementwise = true
		case nets.BatchNorm:
			f.st.fold = p.addFold(fold{bn: o.Name, eps: o.BNEps(), channels: o.C})
			elementwise = true
		case nets.Add:
			if len(o.In) != 2 {
				return nil, fmt.Errorf("cuda: add of %d values", len(o.In))
			}
			f.st.res = o.In[1] // a value for now; a slot below
			if j := soleReader(f.result); j >= 0 && ops[j].Kind == nets.ReLU {
				f.st.relu = true
				absorb(j)
			}
		case nets.ReLU:
			f.st.relu = true
		case nets.MaxPool:
		case nets.AvgPool:
			if o.Pad != 0 {
				return nil, fmt.Errorf("cuda: %v with padding %d", o.Kind, o.Pad)
			}
		case nets.GlobalAvgPool, nets.Concat, nets.Clip, nets.Sigmoid, nets.HardSigmoid, nets.HardSwish, nets.Mul,
			nets.ChannelShuffle, nets.Slice:
		default:
			return nil, fmt.Errorf("cuda: op %v not implemented", o.Kind)
		}
		if elementwise {
			if j := soleReader(f.result); j >= 0 && ops[j].Kind == nets.Add && len(ops[j].In) == 2 {
				other := ops[j].In[0]
				if other == f.result {
					other = ops[j].In[1]
				}
				f.st.res = other
				f.inputs = append(f.inputs, other)
				absorb(j)
			}
			if j := soleReader(f.result); j >= 0 && ops[j].Kind == nets.ReLU {
				f.st.relu = true
				absorb(j)
			}
		}
		steps = append(steps, f)
	}
	slices.SortStableFunc(steps, func(a, b fused) int { return cmp.Compare(a.pos, b.pos) })

	lastRead := make([]int, nv)
	for si, f := range steps {
		for _, v := range f.inputs {
			lastRead[v] = si
		}
	}
	slotOf := make([]int, nv)
	slotOf[0] = inputSlot
	var slots slot.Allocator
	for si, f := range steps {
		st := f.st
		s := shape[f.result]
		slotOf[f.result] = slots.Alloc(s[0] * s[1] * s[2])
		st.out, st.outShape = slotOf[f.result], s
		for _, v := range f.st.op.In {
			st.in = append(st.in, slotOf[v])
			st.inShape = append(st.inShape, shape[v])
		}
		if st.res >= 0 {
			st.res = slotOf[st.res]
		}
		for _, v := range f.inputs {
			if lastRead[v] == si && v != 0 {
				slots.Release(slotOf[v])
			}
		}
		p.steps = append(p.steps, st)
	}
	p.slotSize = slots.Size
	p.logits = p.steps[len(p.steps)-1].out
	if last := p.steps[len(p.steps)-1]; last.outShape != [3]int{n.Config.Classes, 1, 1} {
		return nil, fmt.Errorf("cuda: the last op of %s gives %v values per sample, not %d logits", n.Name, last.outShape, n.Config.Classes)
	}
	return p, nil
}

func (p *plan) addFold(f fold) int {
	f.off = p.channels
	p.channels += f.channels
	p.folds = append(p.folds, f)
	return len(p.folds) - 1
}
