package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/landscape/optim"
)

func cmdTrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var src sourceFlags
	fs := newFlags("train", "--model M --checkpoint INIT --data KIND:PATH --optimizer adam --epochs N --out DIR [flags]", stderr)
	src.register(fs, "the initial weights: ")
	src.registerInit(fs)
	optimizer := fs.String("optimizer", "sgd", "optimizer: "+strings.Join(optim.Names(), ", ")+" (torch.optim's update rules and defaults; momentum and nesterov are SGD with momentum 0.9), "+
		"with torch.optim's keyword arguments if wanted: 'adam(weight_decay=1e-4, amsgrad=true)', 'momentum(momentum=0.95)', 'adam(betas=(0.9, 0.99))'")
	lr := fs.Float64("lr", 0, "learning rate (default: the optimizer's PyTorch default, 0.001 for adam; 0.01 for sgd, momentum and nesterov, which have none)")
	epochs := fs.Int("epochs", 1, "passes over the data")
	seed := fs.Uint64("shuffle-seed", 0, "seed of each epoch's shuffling")
	noShuffle := fs.Bool("no-shuffle", false, "batches in file order, every epoch")
	schedule := fs.String("schedule", "constant", "learning-rate schedule, stepped each epoch: constant, cosine (CosineAnnealingLR over --epochs, down to 0), step:N:GAMMA (StepLR), "+
		"warmup:N (LinearLR: 0.1×lr in the first epoch, rising linearly to lr in epoch N+1) or warmup:N,cosine (the two in sequence)")
	trainingBatch(fs)
	torchFormat := fs.Bool("torch", false, "write the checkpoints in torch.save's zip format (model_E.pt), which torch.load reads, instead of safetensors")
	out := fs.String("out", "", "output folder: model_0.safetensors (the initialisation), model_E.safetensors and optimizer_E.safetensors after each epoch E, train.json (the run's settings); a run killed is resumed from it")
	overwrite := fs.Bool("overwrite", false, "delete the checkpoints of another run in --out and train anew, instead of refusing")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	// Names are case-blind, as optim.New's are; the lower-case one is
	// recorded, so that a resumed run matches whatever case it was given.
	if c, err := optim.Canonical(*optimizer); err == nil {
		*optimizer = c
	}
	if flagSet(fs, "lr") && *lr == 0 {
		// 0 stands for the default only where --lr is left out: a rate
		// given as 0 is not silently another one.
		return usagef("--lr 0: want a positive learning rate, or leave --lr out for %s's default (%g)", optim.Base(*optimizer), withDefaultLR(*optimizer, 0))
	}
	*lr = withDefaultLR(*optimizer, *lr)
	spec := landscape.TrainSpec{Optimizer: *optimizer, LR: *lr, Epochs: *epochs, Seed: *seed, NoShuffle: *noShuffle, Torch: *torchFormat, Schedule: *schedule}
	if *out == "" {
		return usagef("--out is required")
	}
	if !slices.Contains(optim.Names(), optim.Base(*optimizer)) {
		return usagef("--optimizer %q: want one of %s", *optimizer, strings.Join(optim.Names(), ", "))
	}
	if *epochs < 1 || !(*lr >= 0) || math.IsInf(*lr, 1) {
		return usagef("--epochs %d --lr %g: want at least one epoch and a positive learning rate", *epochs, *lr)
	}
	var opts *landscape.Options
	var err error
	if spec.Source, spec.BatchSize, opts, err = src.config("train", stderr); err != nil {
		return err
	}
	opts.Overwrite = *overwrite
	created, err := src.writeInit(&spec.Source, *out)
	if err != nil {
		return err
	}
	epochsDone, err := landscape.Train(ctx, spec, *out, opts)
	if errors.Is(err, landscape.ErrOtherComputation) && created {
		os.Remove(spec.Checkpoint) // not left in another run's folder
	}
	for _, e := range epochsDone {
		fmt.Fprintf(stdout, "epoch %d: lr %.4g, loss %.5g, accuracy %.2f%%, wrote %s\n", e.Epoch, e.LR, e.Loss, e.Acc, e.Checkpoint)
	}
	if err != nil {
		return err
	}
	ext := ".safetensors"
	if spec.Torch {
		ext = ".pt"
	}
	fmt.Fprintf(stdout, "its trajectory: landscape trajectory --model %s --checkpoints '%s' --out DIR\n",
		shellQuote(spec.Model), filepath.Join(*out, "model_*"+ext))
	return nil
}

// trainingBatch says what --batch-size is to train and race: the
// optimizer's batch, on every device, not the forward pass's size.
func trainingBatch(fs *flag.FlagSet) {
	fs.Lookup("batch-size").Usage = "samples per optimizer step (the mean loss of a batch), on every device"
}

// withDefaultLR returns lr, or where it is 0 the learning rate the
// optimizer called name trains at by default: PyTorch's (0.001 for Adam),
// and 0.01 for sgd, momentum and nesterov, since torch.optim.SGD has none.
func withDefaultLR(name string, lr float64) float64 {
	if lr != 0 {
		return lr
	}
	if lr = optim.LR(name, 0); lr == 0 && optim.NeedsLR(name) {
		lr = 0.01
	}
	return lr
}
