package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
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
	sd, format, err := checkpoint.Load(path)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s (%s), %d tensors\n\nKEY\tDTYPE\tSHAPE\tELEMENTS\n", path, format, sd.Len())
	total := 0
	for _, name := range sd.Names() {
		t, _ := sd.Get(name)
		n := nets.NumElements(t.Shape)
		total += n
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\n", name, t.DType, t.Shape, n)
	}
	fmt.Fprintf(tw, "\ntotal\t\t\t%d\n", total)
	if err := tw.Flush(); err != nil {
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
