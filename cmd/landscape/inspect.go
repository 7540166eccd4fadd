package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/landscape-go/landscape/backend/cuda"
	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/nets/onnx"
)

func cmdInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var model modelFlags
	fs := newFlags("inspect", "FILE [--model M]", stderr)
	model.register(fs)
	ckpt := fs.String("checkpoint", "", checkpointHelp)
	// inspect takes the file as its argument; --checkpoint is accepted too.
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	if err := model.checkModel(); err != nil {
		return err
	}
	path := fs.Arg(0)
	if path == "" {
		path = *ckpt
	}
	if path == "" {
		return usagef("no checkpoint file given")
	}
	if landscape.IsONNX(path) {
		mc, err := model.config()
		if err != nil {
			return err
		}
		if err := inspectONNX(path, mc, stdout); err != nil {
			return err
		}
		if *ckpt == "" || *ckpt == path {
			return nil
		}
		// The export and a checkpoint of the run: does it fit?
		sd, _, err := checkpoint.Load(*ckpt)
		if err != nil {
			return err
		}
		if _, err := landscape.CheckWeights(*ckpt, sd, path, mc); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s fits %s\n", *ckpt, path)
		return nil
	}
	if *ckpt != "" && *ckpt != path {
		return usagef("inspect %s and --checkpoint %s: give one checkpoint, and --model to check it against", path, *ckpt)
	}
	sd, format, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (%s), %d tensors\n\n", path, format, sd.Len())
	if err := sd.WriteTable(stdout); err != nil {
		return err
	}
	if model.model == "" {
		return nil
	}
	mc, err := model.config()
	if err != nil {
		return err
	}
	if _, err := landscape.CheckWeights(path, sd, model.model, mc); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fits model %s\n", model.model)
	return nil
}

// inspectONNX describes an ONNX model (see [onnx.Model.Describe]) and
// says how it runs: on the engines, as a network of their ops, or on the
// reference evaluator (with why not on the engines), or not at all (an
// error listing the unsupported operators, or saying what else stands in
// the way).
func inspectONNX(path string, mc nets.Config, stdout io.Writer) error {
	m, err := onnx.Read(path, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (ONNX) ", path)
	if err := m.Describe(stdout); err != nil {
		return err
	}
	if err := m.Graph.Check(); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "\nevery operator is supported by the reference evaluator")
	net, _, err := m.Graph.Net(filepath.Base(path), mc)
	if errors.Is(err, onnx.ErrNotLowerable) {
		fmt.Fprintf(stdout, "the engines cannot run it: %v\n", err)
		if net, err = m.Graph.ReferenceNet(filepath.Base(path), mc); err == nil {
			gpu := "the graph interpreter on a GPU"
			if err := cuda.Runs(net); err != nil {
				gpu = fmt.Sprintf("not a GPU (%v)", err)
			}
			c := net.Config
			if c.Seq > 0 {
				fmt.Fprintf(stdout, "the reference evaluator computes it on the CPU, %s: a language model, sequences of %d token ids, a vocabulary of %d, %d parameters (data: npz of integer ids N x T)\n",
					gpu, c.Seq, c.Classes, net.NumParams())
				return nil
			}
			fmt.Fprintf(stdout, "the reference evaluator computes it on the CPU, many times more slowly, %s: %dx%dx%d inputs, %d classes, %d parameters\n",
				gpu, c.InChannels, c.Height, c.Width, c.Classes, net.NumParams())
			return nil
		}
	}
	if err != nil {
		return err
	}
	c := net.Config
	fmt.Fprintf(stdout, "runs on the CPU and GPU engines: %d ops on %dx%dx%d inputs, %d classes, %d parameters\n",
		len(net.Ops), c.InChannels, c.Height, c.Width, c.Classes, net.NumParams())
	return nil
}
