package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/landscape"
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
	path := fs.Arg(0)
	if path == "" {
		path = *ckpt
	}
	if path == "" {
		return usagef("no checkpoint file given")
	}
	if strings.EqualFold(filepath.Ext(path), ".onnx") {
		return inspectONNX(path, stdout)
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

// inspectONNX describes an ONNX model (see [onnx.Model.Describe]); it
// fails, listing them, if some operators are unsupported.
func inspectONNX(path string, stdout io.Writer) error {
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
	fmt.Fprintln(stdout, "every operator is supported (the reference evaluator; surfaces of ONNX models are to come)")
	return nil
}
