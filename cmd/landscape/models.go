package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/landscape-go/landscape/nets"
)

func cmdModels(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parse(newFlags("models", "", stderr), args, 0); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MODEL\tPARAMETERS\tDESCRIPTION")
	for _, name := range nets.Models() {
		n, err := nets.New(name, nets.Config{})
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\n", name, n.NumParams(), nets.Describe(name))
	}
	fmt.Fprintln(tw, "\nParameter counts are for 3x32x32 inputs and 10 classes; --channels, --size and --classes change them.")
	return tw.Flush()
}
