package main

import (
	"context"
	"fmt"
	"io"

	"github.com/landscape-go/landscape/landscape"
)

func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parse(newFlags("version", "", stderr), args, 0); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "landscape", landscape.Version)
	return nil
}
