package cpu

import (
	"github.com/landscape-go/landscape/backend/internal/slot"
	"github.com/landscape-go/landscape/nets"
)

// step is one kernel call of a compiled forward pass. Conv and Linear steps
// carry an epilogue: the bias, a following eval-mode batch norm and a
// ReLU or Clip are applied to the GEMM's output rows instead of in
// separate passes, which is what lets BN be folded into a per-channel
// scale and shift.
type step struct {
	op  nets.Op
	in  []int // slots of the inputs
	inC []int // per-sample channel counts of the inputs
	inH int   // input height and width (of the first input)
	inW int
	// inH1 and inW1 are the second input's (a Mul's scale may be 1x1).
	inH1, inW1 int
	out        int    // slot of the output
	bn         string // name of a batch norm applied after the op, or ""
	clamp      *clamp // a ReLU or Clip that follows, or nil
}

// plan is a forward pass compiled for the CPU: fused steps and a static
// assignment of values to reusable buffers (slots).
type plan struct {
	steps []step
	// slotSize is the per-sample number of floats each slot must hold.
	slotSize []int
	// inputSlot holds the network input; logitsSlot the output.
	inputSlot, logitsSlot int
	classes               int
}

// compile fuses conv/linear + BN + ReLU (or Clip) chains, BN + ReLU and
// add + ReLU,
// then assigns buffers so that a value's buffer is reused once its last
// reader has run.
func compile(n *nets.Net) *plan {
	ops := n.Ops
	nv := len(ops) + 1
	_, onlyReaderIs := soleReader(ops)
	type fused struct {
		st     step
		result int // the value the step produces
	}
	var steps []fused
	for i := 0; i < len(ops); i++ {
		o := ops[i]
		st := step{op: o}
		v := i + 1
		switch o.Kind {
		case nets.Conv, nets.Linear:
			if onlyReaderIs(v, i+1, nets.BatchNorm) {
				i++
				st.bn = ops[i].Name
				v = i + 1
			}
			fallthrough
		case nets.BatchNorm, nets.Add:
			if st.clamp = clampAfter(ops, v, onlyReaderIs); st.clamp != nil {
				i++
				v = i + 1
			}
		}
		steps = append(steps, fused{st, v})
	}

	// Value shapes (per sample) and last reads, in terms of fused steps.
	size := make([]int, nv)
	shape := make([][3]int, nv)
	shape[0] = [3]int{n.Config.InChannels, n.Config.Height, n.Config.Width}
	for i, o := range ops {
		shape[i+1] = [3]int{o.C, o.H, o.W}
	}
	for v := range size {
		size[v] = shape[v][0] * shape[v][1] * shape[v][2]
	}
	lastRead := make([]int, nv)
	for i := range lastRead {
		lastRead[i] = -1
	}
	for si, f := range steps {
		for _, v := range f.st.op.In {
			lastRead[v] = si
		}
	}

	p := &plan{classes: n.Config.Classes}
	slotOf := make([]int, nv)
	var slots slot.Allocator
	alloc := func(v int) int { return slots.Alloc(size[v]) }
	slotOf[0] = alloc(0)
	p.inputSlot = slotOf[0]
	for si, f := range steps {
		st := f.st
		slotOf[f.result] = alloc(f.result)
		st.out = slotOf[f.result]
		for _, v := range st.op.In {
			st.in = append(st.in, slotOf[v])
			st.inC = append(st.inC, shape[v][0])
		}
		st.inH, st.inW = shape[st.op.In[0]][1], shape[st.op.In[0]][2]
		if len(st.op.In) > 1 {
			st.inH1, st.inW1 = shape[st.op.In[1]][1], shape[st.op.In[1]][2]
		}
		st.op.C, st.op.H, st.op.W = shape[f.result][0], shape[f.result][1], shape[f.result][2]
		for _, v := range st.op.In {
			if lastRead[v] == si {
				slots.Release(slotOf[v])
			}
		}
		p.steps = append(p.steps, st)
	}
	p.logitsSlot = p.steps[len(p.steps)-1].out
	p.slotSize = slots.Size
	return p
}

// clampAfter returns the clamp of the ReLU or Clip that alone reads value
// v, if that is the next op, or nil.
func clampAfter(ops []nets.Op, v int, onlyReaderIs func(v, j int, kind nets.OpKind) bool) *clamp {
	switch {
	case onlyReaderIs(v, v, nets.ReLU):
		return &relu
	case onlyReaderIs(v, v, nets.Clip):
		return &clamp{ops[v].Lo, ops[v].Hi}
	}
	return nil
}

// soleReader counts the readers of each value (value 0 the input, op i's
// output value i+1) and returns with the counts a test of whether value v
// is read by op j alone, op j being of the given kind with v as its only
// input: the condition for fusing op j into the op that produces v.
func soleReader(ops []nets.Op) (readers []int, only func(v, j int, kind nets.OpKind) bool) {
	readers = make([]int, len(ops)+1)
	for _, o := range ops {
		for _, v := range o.In {
			readers[v]++
		}
	}
	return readers, func(v, j int, kind nets.OpKind) bool {
		return j < len(ops) && readers[v] == 1 && ops[j].Kind == kind && len(ops[j].In) == 1 && ops[j].In[0] == v
	}
}
