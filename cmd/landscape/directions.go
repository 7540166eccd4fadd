package main

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/normalize"
)

func cmdDirections(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var f surfaceFlags
	fs := newFlags("directions", "--model M --checkpoint F --out dirs.safetensors [flags]", stderr)
	f.registerModel(fs)
	f.registerDirections(fs)
	dims := fs.Int("dims", 2, "number of directions: 1 (x only) or 2 (x and y)")
	out := fs.String("out", "", "output direction file (.safetensors with x.<key> and y.<key> tensors)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.model == "" || f.checkpoint == "" || *out == "" {
		return usagef("--model, --checkpoint and --out are required")
	}
	if *dims != 1 && *dims != 2 {
		return usagef("--dims %d: want 1 or 2", *dims)
	}
	mc, err := f.modelConfig()
	if err != nil {
		return err
	}
	opts, err := f.directionOptions()
	if err != nil {
		return err
	}
	return runDirections(f.model, mc, f.checkpoint, f.seed, opts, *dims, *out, stdout)
}

// runDirections draws directions for a checkpoint and writes them with
// their recipe in the file's metadata.
func runDirections(model string, mc nets.Config, ckpt string, seed uint64, opts normalize.Options, dims int, out string, stdout io.Writer) error {
	net, err := nets.New(model, mc)
	if err != nil {
		return err
	}
	center, _, err := checkpoint.Load(ckpt)
	if err != nil {
		return err
	}
	if err := net.Check(center); err != nil {
		return fmt.Errorf("checkpoint %s: %w", ckpt, err)
	}
	rng := normalize.NewRand(seed)
	x, err := normalize.Random(net, center, &opts, rng)
	if err != nil {
		return err
	}
	var y *nets.StateDict
	if dims == 2 {
		if y, err = normalize.Random(net, center, &opts, rng); err != nil {
			return err
		}
	}
	hash := normalize.Hash(x, y)
	meta := map[string]string{
		"model": model, "checkpoint": ckpt, "seed": strconv.FormatUint(seed, 10),
		"norm": opts.Norm.String(), "ignore": opts.Ignore.String(), "mode": opts.Mode.String(), "sha256": hash,
	}
	if err := normalize.WriteFile(out, x, y, meta); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d direction(s) over %d tensors, sha256 %s\n", out, dims, x.Len(), hash)
	return nil
}
