package landscape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/optim"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/safetensors"
	"github.com/landscape-go/landscape/nets/torch"
	"github.com/landscape-go/landscape/normalize"
)

// Trainer trains a network in memory, on the CPU or a GPU, as a PyTorch
// training loop does: batch norm in training mode (batch statistics,
// running statistics updated with momentum 0.1), the mean cross-entropy
// of each batch, and one of torch.optim's optimizers (see optim.New)
// stepping every learnable parameter, on the host.
type Trainer struct {
	d       stepper
	net     *nets.Net
	w, grad []float32
	opt     optim.Optimizer
	steps   int
}

// stepper is a differentiator that trains: the CPU's or a GPU's. Its flat
// vectors hold every state-dict entry, laid out as Flatten lays them.
type stepper interface {
	backend.Differentiator
	TrainStep(w, x []float32, y []int32, grad []float32) (loss float64, correct int, err error)
	Flatten(sd *nets.StateDict) []float32
	Entry(w []float32, name string) []float32
}

// NewTrainer returns a trainer of net from the weights init (copied) with
// the optimizer called optimizer at learning rate lr (0: its default), on
// opts.Device (auto: a GPU if one works, else the CPU). The dataset d
// gives the input geometry the batches must have, and at most how many
// samples they hold. Close releases it.
func NewTrainer(net *nets.Net, init *nets.StateDict, d *data.Dataset, optimizer string, lr float64, opts *Options) (*Trainer, error) {
	if opts == nil {
		opts = &Options{}
	}
	if len(net.Ops) == 0 {
		return nil, fmt.Errorf("landscape: training %s: the engines cannot run it, and training runs on them", net.Name)
	}
	prob := &backend.Problem{Net: net, Center: init, Data: []*backend.Data{backendData(net, d)}}
	diff, err := newDifferentiator(prob, nil, opts.Device, opts.logf)
	if err != nil {
		return nil, err
	}
	st, ok := diff.(stepper)
	if !ok {
		diff.Close()
		return nil, fmt.Errorf("landscape: %s does not train", diff.Describe())
	}
	t := &Trainer{d: st, net: net, w: st.Flatten(init)}
	t.grad = make([]float32, len(t.w))
	var params []optim.Param
	for _, p := range net.Params {
		if p.Kind == nets.Weight {
			params = append(params, optim.Param{Name: p.Name, Data: st.Entry(t.w, p.Name), Grad: st.Entry(t.grad, p.Name)})
		}
	}
	if t.opt, err = optim.New(optimizer, []*optim.Group{{Params: params}}, lr); err != nil {
		st.Close()
		return nil, err
	}
	return t, nil
}

// Describe says what trains: the device and its arithmetic.
func (t *Trainer) Describe() string { return t.d.Describe() }

// Close releases the device's resources.
func (t *Trainer) Close() error { return t.d.Close() }

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

// TrainSpec is a training run: the source's network from the weights of
// its checkpoint (the initialisation) on its data, for Epochs passes over
// it in batches of BatchSize (the last batch of an epoch may be smaller),
// shuffled each epoch by Seed unless NoShuffle, with Optimizer at LR.
type TrainSpec struct {
	Source
	Optimizer string
	LR        float64
	Epochs    int
	BatchSize int // 0 means 128
	Seed      uint64
	NoShuffle bool
	// Torch writes the checkpoints in torch.save's zip format, model_E.pt,
	// which torch.load reads, instead of safetensors.
	Torch bool
	// Schedule is the learning-rate schedule, stepped once an epoch (see
	// optim.ParseSchedule): "" (constant), "cosine", "step:N:GAMMA",
	// "warmup:N" or "warmup:N,cosine".
	Schedule string
}

// TrainEpoch is one epoch's mean training loss and accuracy (in percent),
// over its batches as they were trained on, and the checkpoint written.
type TrainEpoch struct {
	Epoch      int
	LR         float64 // the learning rate of the epoch
	Loss, Acc  float64
	Checkpoint string
}

// TrainRecordFile is the file of a training run's folder that records
// what makes the run the one it is (see [Train]).
const TrainRecordFile = "train.json"

// trainRecord is what makes a training run the run it is: its network,
// initial weights, data and optimisation, but not its number of epochs (a
// run extended by more epochs is the same run, resumed). [Train] writes
// it to the run's folder and resumes a folder only where it matches.
type trainRecord struct {
	Tool      string            `json:"tool"`
	Version   string            `json:"version"`
	Model     surface.ModelInfo `json:"model"`
	Initial   surface.FileInfo  `json:"initial_weights"`
	Data      surface.DataInfo  `json:"data"`
	Optimizer string            `json:"optimizer"`
	LR        float64           `json:"lr"`
	BatchSize int               `json:"batch_size"`
	Seed      uint64            `json:"shuffle_seed"`
	NoShuffle bool              `json:"no_shuffle"`
	Schedule  string            `json:"schedule"`
	// ScheduleEpochs is the run's epochs where its schedule spans them (a
	// cosine's), so that a run continued for other epochs is refused where
	// the epochs it trained would have had other rates (see
	// sameSchedule); 0 for schedules that do not depend on it, and in
	// records of versions before it.
	ScheduleEpochs int  `json:"schedule_epochs,omitempty"`
	Torch          bool `json:"torch_format"`
}

// mismatch returns the first difference between the record r of a folder
// and the run's own, or nil where the run resumes the folder's.
func (r trainRecord) mismatch(run trainRecord) *surface.Mismatch {
	return surface.FirstMismatch([]surface.Mismatch{
		{What: "model", P: r.Model, Q: run.Model},
		{What: "initial weights' SHA-256", P: r.Initial.SHA256, Q: run.Initial.SHA256},
		{What: "data", P: fmt.Sprint(r.Data.Name, r.Data.Splits, r.Data.Samples), Q: fmt.Sprint(run.Data.Name, run.Data.Splits, run.Data.Samples)},
		{What: "data SHA-256", P: r.Data.SHA256, Q: run.Data.SHA256},
		{What: "optimizer", P: r.Optimizer, Q: run.Optimizer},
		{What: "learning rate", P: r.LR, Q: run.LR},
		{What: "batch size", P: r.BatchSize, Q: run.BatchSize},
		{What: "shuffle seed", P: r.Seed, Q: run.Seed},
		{What: "no shuffle", P: r.NoShuffle, Q: run.NoShuffle},
		{What: "schedule", P: r.Schedule, Q: run.Schedule},
		{What: "checkpoint format (torch)", P: r.Torch, Q: run.Torch},
	})
}

// Train runs spec, writing to the folder out model_0.safetensors (the
// initialisation) and model_E.safetensors after each epoch E (.pt with
// spec.Torch), with the optimizer's state beside it
// (optimizer_E.safetensors), each atomically, and the run's settings
// ([TrainRecordFile]): a killed run is resumed from the last epoch both
// were written for, and the checkpoints are a trajectory for
// [RunTrajectory]. A folder of another run (other weights, data or
// optimisation) is refused, or with opts.Overwrite, its checkpoints are
// deleted and the run starts afresh. opts.Log and opts.Progress report as
// for a surface (progress in steps).
func Train(ctx context.Context, spec TrainSpec, out string, opts *Options) ([]TrainEpoch, error) {
	if opts == nil {
		opts = &Options{}
	}
	if spec.BatchSize == 0 {
		spec.BatchSize = 128
	}
	if spec.Epochs < 1 || spec.BatchSize < 1 {
		return nil, fmt.Errorf("landscape: training for %d epochs in batches of %d", spec.Epochs, spec.BatchSize)
	}
	// The optimizer and its schedule are checked before the folder is
	// claimed, so that a mistyped run leaves no record behind.
	if !(spec.LR >= 0) || math.IsInf(spec.LR, 0) {
		return nil, fmt.Errorf("landscape: learning rate %g: want a finite number, 0 or more (0: the optimizer's default)", spec.LR)
	}
	probe, err := optim.New(spec.Optimizer, []*optim.Group{{}}, spec.LR)
	if err != nil {
		return nil, err
	}
	if _, err := optim.ParseSchedule(spec.Schedule, probe, spec.Epochs); err != nil {
		return nil, err
	}
	canonical, err := optim.Canonical(spec.Optimizer) // how the record writes it
	if err != nil {
		return nil, err
	}
	d, w, err := spec.load()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	rec := trainRecord{Tool: "landscape", Version: Version, Model: modelInfo(w.Net), Initial: w.File,
		Data: surface.DataInfo{Name: d.Name, Path: spec.Data.Path, Splits: []string{d.Split}, Samples: []int{d.N}, SampleSeed: spec.DataOptions.SampleSeed,
			Mean: d.Mean, Std: d.Std, SHA256: dataHash([]*data.Dataset{d})},
		Optimizer: canonical, LR: optim.LR(spec.Optimizer, spec.LR), BatchSize: spec.BatchSize, Seed: spec.Seed, NoShuffle: spec.NoShuffle,
		Schedule: spec.Schedule, Torch: spec.Torch}
	if optim.SpansEpochs(spec.Schedule) {
		rec.ScheduleEpochs = spec.Epochs
	}
	spanned := func(prev trainRecord) error {
		if prev.ScheduleEpochs == 0 || prev.ScheduleEpochs == rec.ScheduleEpochs {
			return nil
		}
		done, _ := lastEpoch(out, min(spec.Epochs, prev.ScheduleEpochs), spec.Torch)
		return sameSchedule(spec, prev.ScheduleEpochs, done)
	}
	if err := claimTrainFolder(out, rec, opts, spanned); err != nil {
		return nil, err
	}
	start, init := 0, w.State
	if e, sd := lastEpoch(out, spec.Epochs, spec.Torch); e > 0 { // resume from it
		start, init = e, sd
	}
	tr, err := NewTrainer(w.Net, init, d, spec.Optimizer, spec.LR, opts)
	if err != nil {
		return nil, err
	}
	defer tr.Close()
	opts.logf("train: %s", tr.Describe())
	sched, err := optim.ParseSchedule(spec.Schedule, tr.Optimizer(), spec.Epochs)
	if err != nil {
		return nil, err
	}
	for range start { // the schedule where the run stopped
		if sched != nil {
			sched.Step()
		}
	}
	if start > 0 {
		_, state := trainFiles(out, start, spec.Torch)
		st, _, err := safetensors.Read(state)
		if err != nil {
			return nil, err
		}
		if err := tr.Optimizer().LoadState(st); err != nil {
			return nil, fmt.Errorf("landscape: resuming from %s: %w", state, err)
		}
		opts.logf("train: resuming after epoch %d from %s", start, out)
	} else if err := writeTrained(out, 0, spec.Torch, tr.Weights()); err != nil {
		return nil, err
	}
	opts.logf("train: %s, %d parameters, %s at lr %.4g, %d samples of %s %s in batches of %d, %d epochs; %s",
		w.Net.Name, w.Net.NumParams(), spec.Optimizer, tr.Optimizer().Groups()[0].LR, d.N, spec.Data, d.Split, spec.BatchSize, spec.Epochs,
		tr.d.Describe())
	per := d.C * d.H * d.W
	order := make([]int, d.N)
	x, y := make([]float32, spec.BatchSize*per), make([]int32, spec.BatchSize)
	batches := (d.N + spec.BatchSize - 1) / spec.BatchSize
	var epochs []TrainEpoch
	for e := start + 1; e <= spec.Epochs; e++ {
		for i := range order {
			order[i] = i
		}
		if !spec.NoShuffle {
			rng := normalize.NewRand(spec.Seed + uint64(e))
			rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		}
		var lossSum float64
		var hits int
		lr := tr.Optimizer().Groups()[0].LR
		for b := range batches {
			if err := ctx.Err(); err != nil {
				return epochs, err
			}
			idx := order[b*spec.BatchSize : min((b+1)*spec.BatchSize, d.N)]
			for k, i := range idx {
				copy(x[k*per:(k+1)*per], d.X[i*per:(i+1)*per])
				y[k] = d.Y[i]
			}
			loss, correct, err := tr.Step(x[:len(idx)*per], y[:len(idx)])
			if err != nil {
				return epochs, err
			}
			if math.IsNaN(loss) || math.IsInf(loss, 0) {
				return epochs, diverged(e, fmt.Sprintf("batch %d of epoch %d: loss %g", b+1, e, loss))
			}
			lossSum += loss * float64(len(idx))
			hits += correct
			if opts.Progress != nil {
				opts.Progress((e-start-1)*batches+b+1, (spec.Epochs-start)*batches)
			}
		}
		ckpt, state := trainFiles(out, e, spec.Torch)
		weights := tr.Weights()
		if bad := weights.NonFinite(); len(bad) > 0 {
			return epochs, diverged(e, fmt.Sprintf("after epoch %d: %d tensors not finite, %s first", e, len(bad), bad[0]))
		}
		if err := writeTrained(out, e, spec.Torch, weights); err != nil {
			return epochs, err
		}
		if err := safetensors.Write(state, tr.Optimizer().State(), nil); err != nil {
			return epochs, err
		}
		if sched != nil {
			sched.Step()
		}
		ep := TrainEpoch{Epoch: e, LR: lr, Loss: lossSum / float64(d.N), Acc: 100 * float64(hits) / float64(d.N), Checkpoint: ckpt}
		epochs = append(epochs, ep)
		opts.logf("train: epoch %d: lr %.4g, loss %.5g, accuracy %.2f%%", e, ep.LR, ep.Loss, ep.Acc)
	}
	return epochs, nil
}

// claimTrainFolder makes the folder out the run rec's: it checks that a
// run's checkpoints there are rec's, or with opts.Overwrite deletes them,
// and writes rec there.
func claimTrainFolder(out string, rec trainRecord, opts *Options, resumes func(prev trainRecord) error) error {
	path := filepath.Join(out, TrainRecordFile)
	var written []string
	for _, pattern := range []string{"model_*.safetensors", "model_*.pt", "optimizer_*.safetensors"} {
		m, err := filepath.Glob(filepath.Join(out, pattern))
		if err != nil {
			return err
		}
		written = append(written, m...)
	}
	b, err := os.ReadFile(path)
	switch {
	case opts.Overwrite:
		// The other run's checkpoints, and the start from scratch it drew
		// (--init-seed), unless that is this run's start too.
		inits, _ := filepath.Glob(filepath.Join(out, "init-seed*.safetensors"))
		for _, f := range append(written, inits...) {
			if same, _ := sameFile(f, rec.Initial.Path); same {
				continue
			}
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	case err == nil:
		var prev trainRecord
		if err := json.Unmarshal(b, &prev); err != nil {
			return fmt.Errorf("landscape: %s: %w (remove the folder or pass --overwrite)", path, err)
		}
		if m := prev.mismatch(rec); m != nil {
			return fmt.Errorf("landscape: %s %w: %s (remove it, choose another --out, or pass --overwrite)", out, ErrOtherComputation, m.Between("it", "this run"))
		}
		if err := resumes(prev); err != nil {
			return fmt.Errorf("landscape: %s %w: %w (remove it, choose another --out, or pass --overwrite)", out, ErrOtherComputation, err)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	case len(written) > 0:
		return fmt.Errorf("landscape: %s %w: it holds checkpoints (%s) but no %s saying which run wrote them (remove it, choose another --out, or pass --overwrite)",
			out, ErrOtherComputation, filepath.Base(written[0]), TrainRecordFile)
	}
	b, err = json.MarshalIndent(rec, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// sameFile reports whether paths a and b name the same file.
func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// ErrDiverged is wrapped by the error of a training run whose loss or
// weights left the finite numbers.
var ErrDiverged = errors.New("training diverged")

// diverged is the error of a run that left the finite numbers in epoch e
// (what says where): a run that went on would only write checkpoints no
// command reads, so it stops, its last checkpoint the one before.
func diverged(e int, what string) error {
	return fmt.Errorf("landscape: %s: %w; the last checkpoint is model_%d; "+
		"a smaller learning rate is another run (--overwrite, or another folder)", what, ErrDiverged, e-1)
}

// trainFiles names the checkpoint and optimizer state after epoch e.
func trainFiles(dir string, e int, torchFormat bool) (ckpt, state string) {
	ext := ".safetensors"
	if torchFormat {
		ext = ".pt"
	}
	return filepath.Join(dir, fmt.Sprintf("model_%d%s", e, ext)), filepath.Join(dir, fmt.Sprintf("optimizer_%d.safetensors", e))
}

// writeTrained writes the checkpoint after epoch e.
func writeTrained(dir string, e int, torchFormat bool, sd *nets.StateDict) error {
	ckpt, _ := trainFiles(dir, e, torchFormat)
	if torchFormat {
		return torch.Write(ckpt, sd)
	}
	return safetensors.Write(ckpt, sd, nil)
}

// lastEpoch returns the last epoch, upTo at most, whose checkpoint reads
// and whose optimizer state is beside it, with the checkpoint: where a run
// resumes (0 and nil where none is).
func lastEpoch(out string, upTo int, torch bool) (int, *nets.StateDict) {
	for e := upTo; e >= 1; e-- {
		ckpt, state := trainFiles(out, e, torch)
		if sd, _, err := checkpoint.Load(ckpt); err == nil {
			if _, err := os.Stat(state); err == nil {
				return e, sd
			}
		}
	}
	return 0, nil
}

// sameSchedule returns nil if the first done epochs of spec's run have
// the rates they had in the run of span epochs that trained them, so that
// continuing it for spec.Epochs gives a run of spec.Epochs bit for bit; or
// an error saying from which epoch the rates differ. (A warm-up of one
// epoch and a cosine start at the same rate whatever the span, say; a
// bare cosine's second epoch does not.)
func sameSchedule(spec TrainSpec, span, done int) error {
	rates := func(epochs int) ([]float64, error) {
		o, err := optim.New(spec.Optimizer, []*optim.Group{{}}, spec.LR)
		if err != nil {
			return nil, err
		}
		sched, err := optim.ParseSchedule(spec.Schedule, o, epochs)
		if err != nil {
			return nil, err
		}
		var lr []float64
		for range done {
			lr = append(lr, o.Groups()[0].LR)
			if sched != nil {
				sched.Step()
			}
		}
		return lr, nil
	}
	had, err := rates(span)
	if err != nil {
		return err
	}
	would, err := rates(spec.Epochs)
	if err != nil {
		return err
	}
	for e := range had {
		if had[e] != would[e] {
			return fmt.Errorf("its %d epochs trained on a %s schedule over %d epochs; over %d, epoch %d would have had lr %.4g, not %.4g, so the run would be neither",
				done, spec.Schedule, span, spec.Epochs, e+1, would[e], had[e])
		}
	}
	return nil
}
