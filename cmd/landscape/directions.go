package main

import (
	"context"
	"fmt"
	"io"

	"github.com/landscape-go/landscape/landscape"
)

func cmdDirections(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var model modelFlags
	var dirs directionFlags
	fs := newFlags("directions", "--model M --checkpoint F --out dirs.safetensors [flags]", stderr)
	model.register(fs)
	ckpt := fs.String("checkpoint", "", checkpointHelp)
	dirs.register(fs)
	dims := fs.Int("dims", 2, "number of directions: 1 (x only) or 2 (x and y)")
	out := fs.String("out", "", "output direction file (.safetensors with x.<key> and y.<key> tensors)")
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	*ckpt = model.checkpoint(*ckpt)
	if model.model == "" || *ckpt == "" || *out == "" {
		return usagef("--model, --checkpoint and --out are required (an ONNX model's checkpoint defaults to its own weights)")
	}
	if *dims != 1 && *dims != 2 {
		return usagef("--dims %d: want 1 or 2", *dims)
	}
	mc, err := model.config()
	if err != nil {
		return err
	}
	opts, err := dirs.options()
	if err != nil {
		return err
	}
	w, err := landscape.LoadWeights(*ckpt, model.model, mc)
	if err != nil {
		return err
	}
	meta, err := landscape.WriteDirections(*out, w, dirs.seed, opts, *dims == 2)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d direction(s), sha256 %s\n", *out, *dims, meta.SHA256)
	return nil
}
