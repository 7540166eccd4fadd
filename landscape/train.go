package landscape

import (
	"fmt"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/nets"
)

// Trainer trains a network in memory on the CPU, as a PyTorch training
// loop does: batch norm in training mode (batch statistics, running
// statistics updated with momentum 0.1), the mean cross-entropy of each
// batch, and one of torch.optim's optimizers (see optim.New) stepping
// every learnable parameter.
type Trainer struct {
	d       *cpu.Differentiator
	net     *nets.Net
	w, grad []float32
	opt     optim.Optimizer
	steps   int
}

// NewTrainer returns a trainer of net from the weights init (copied) with
// the optimizer called optimizer at learning rate lr (0: its default).
// The dataset d gives the input geometry the batches must have.
func NewTrainer(net *nets.Net, init *nets.StateDict, d *data.Dataset, optimizer string, lr float64, opts *Options) (*Trainer, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(net.Ops) == 0 {
		return nil, fmt.Errorf("landscape: training %s: the engines cannot run it, and training runs on them", net.Name)
	}
	prob := &backend.Problem{Net: net, Center: init, Data: []*backend.Data{backendData(net, d)}}
	diff, err := cpu.NewDifferentiator(prob, nil, &opts.Device.CPU)
	if err != nil {
		return nil, err
	}
	t := &Trainer{d: diff, net: net, w: diff.Flatten(init)}
	t.grad = make([]float32, len(t.w))
	var params []optim.Param
	for _, p := range net.Params {
		if p.Kind == nets.Weight {
			params = append(params, optim.Param{Name: p.Name, Data: diff.Entry(t.w, p.Name), Grad: diff.Entry(t.grad, p.Name)})
		}
	}
	if t.opt, err = optim.New(optimizer, []*optim.Group{{Params: params}}, lr); err != nil {
		return nil, err
	}
	return t, nil
}

// Step trains on one batch, the samples x (n × C·H·W) with labels y, and
// returns the batch's mean loss (before the update) and its number of
// correct predictions.
func (t *Trainer) Step(x []float32, y []int32) (loss float64, correct int, err error) {
	if loss, correct, err = t.d.TrainStep(t.w, x, y, t.grad); err != nil {
		return 0, 0, err
	}
	t.opt.Step()
	t.steps++
	return loss, correct, nil
}

// Steps is the number of steps taken.
func (t *Trainer) Steps() int { return t.steps }

// Optimizer returns the optimizer, for its groups' learning rates (a
// scheduler sets them between steps) and its state.
func (t *Trainer) Optimizer() optim.Optimizer { return t.opt }

// Weights returns a copy of the current weights as a state dict in the
// network's order, num_batches_tracked as int64 as PyTorch keeps it.
func (t *Trainer) Weights() *nets.StateDict {
	sd := &nets.StateDict{}
	for _, p := range t.net.Params {
		v := &nets.Tensor{Shape: append([]int(nil), p.Shape...), DType: "float32", Data: append([]float32(nil), t.d.Entry(t.w, p.Name)...)}
		if p.Kind == nets.Buffer && len(p.Shape) == 0 {
			v.DType = "int64"
		}
		sd.Set(p.Name, v)
	}
	return sd
}
