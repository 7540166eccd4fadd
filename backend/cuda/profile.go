package cuda

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"
)

// graphProfile times the graph interpreter's work on the batch by
// operator type, so that one run on a GPU says where a graph's time goes
// (Options.Profile). Each node's work is timed from the end of the
// previous node's to a synchronisation after its own, so the sum is the
// batches' whole time, somewhat lengthened by a wait per node.
type graphProfile struct {
	w       io.Writer
	byOp    map[string]*opTime
	byNode  map[string]time.Duration // by node label
	batches int
	// idle is the time of the synchronisations run with nothing to wait
	// for, one a batch: what each node's time has on top of its work.
	idle time.Duration
}

// slowestNodes is how many nodes the report lists by name, the slowest
// first: where one kind of node takes longer than its peers (attention's
// products against the linear layers', say), the types' totals hide it.
const slowestNodes = 12

func newGraphProfile(w io.Writer) *graphProfile {
	return &graphProfile{w: w, byOp: map[string]*opTime{}, byNode: map[string]time.Duration{}}
}

// opTime is the time the nodes of one operator type took.
type opTime struct {
	d     time.Duration
	nodes map[string]bool
}

// run runs plan's batch work node by node, as runSteps would all at once.
func (p *graphProfile) run(a *api, plan *graphPlan) error {
	sync := func() error { return a.cu("cuCtxSynchronize", a.cuCtxSynchronize()) }
	if err := sync(); err != nil {
		return err
	}
	start := time.Now()
	if err := sync(); err != nil {
		return err
	}
	p.idle += time.Since(start)
	// timed runs steps, waits for them and books the time to op's node.
	timed := func(steps []func() error, op, node string) error {
		start := time.Now()
		if err := runSteps(steps); err != nil {
			return err
		}
		if err := sync(); err != nil {
			return err
		}
		p.add(op, node, time.Since(start))
		return nil
	}
	done := 0
	for _, m := range plan.marks {
		if err := timed(plan.perBatch[done:m.step], m.node.OpType, m.node.Label()); err != nil {
			return err
		}
		done = m.step
	}
	if done < len(plan.perBatch) {
		if err := timed(plan.perBatch[done:], "(the output)", ""); err != nil {
			return err
		}
	}
	p.batches++
	return nil
}

func (p *graphProfile) add(op, node string, d time.Duration) {
	t := p.byOp[op]
	if t == nil {
		t = &opTime{nodes: map[string]bool{}}
		p.byOp[op] = t
	}
	t.d += d
	t.nodes[node] = true
	if node == "" {
		node = op
	}
	p.byNode[node] += d
}

// report writes the operator types by the time they took, the longest
// first.
func (p *graphProfile) report() error {
	if p.batches == 0 {
		return nil
	}
	var total time.Duration
	for _, t := range p.byOp {
		total += t.d
	}
	ops := slices.SortedFunc(maps.Keys(p.byOp), func(a, b string) int {
		return cmp.Or(cmp.Compare(p.byOp[b].d, p.byOp[a].d), cmp.Compare(a, b))
	})
	if _, err := fmt.Fprintf(p.w, "cuda: the graph's batches, each node synchronised: %.1f ms over %d batches\n", ms(total), p.batches); err != nil {
		return err
	}
	for _, op := range ops {
		t := p.byOp[op]
		if _, err := fmt.Fprintf(p.w, "  %-22s %10.1f ms %5.1f%%  %4d nodes\n", op, ms(t.d), 100*t.d.Seconds()/total.Seconds(), len(t.nodes)); err != nil {
			return err
		}
	}
	nodes := slices.SortedFunc(maps.Keys(p.byNode), func(a, b string) int {
		return cmp.Or(cmp.Compare(p.byNode[b], p.byNode[a]), cmp.Compare(a, b))
	})
	if _, err := fmt.Fprintf(p.w, "the slowest nodes, a batch (each with a synchronisation, alone %.1f µs):\n", 1e3*ms(p.idle)/float64(p.batches)); err != nil {
		return err
	}
	for _, node := range nodes[:min(len(nodes), slowestNodes)] {
		d := p.byNode[node] / time.Duration(p.batches)
		if _, err := fmt.Fprintf(p.w, "  %9.3f ms  %s\n", ms(d), node); err != nil {
			return err
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }
