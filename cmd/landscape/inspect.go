package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
)

func cmdInspect(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var f surfaceFlags
	fs := newFlags("inspect", "FILE [--model M]", stderr)
	f.registerModel(fs)
	// inspect takes the file as its argument; --checkpoint is accepted too.
	if err := parse(fs, args, 1); err != nil {
		return err
	}
	path := fs.Arg(0)
	if path == "" {
		path = f.checkpoint
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
	if f.model == "" {
		return nil
	}
	mc, err := f.modelConfig()
	if err != nil {
		return err
	}
	net, err := nets.New(f.model, mc)
	if err != nil {
		return err
	}
	if err := net.Check(sd); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "fits model %s\n", f.model)
	return nil
}
