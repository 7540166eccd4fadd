package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/backend/cuda"
)

func cmdDevices(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if err := parse(newFlags("devices", "", stderr), args, 0); err != nil {
		return err
	}
	return runDevices(stdout)
}

// runDevices reports the compute this machine offers and why a GPU is not
// there when it is not.
func runDevices(w io.Writer) error {
	kernels := cpu.Kernels()
	if kernels == "" {
		kernels = "no SIMD kernels for this CPU: im2col + SGEMM"
	} else {
		kernels += " kernels"
	}
	fmt.Fprintf(w, "cpu: %d cores (%s/%s), %s; fallback SGEMM: %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, kernels, cpu.BLAS())
	r := cuda.Probe()
	if r.Driver != "" {
		fmt.Fprintf(w, "cuda: %s\n", r.Driver)
	}
	for _, d := range r.Devices {
		fmt.Fprintf(w, "  %s\n", d)
	}
	if len(r.Devices) == 0 {
		fmt.Fprintf(w, "cuda: none: %s\n", r.Why)
	}
	if len(r.Devices) > 0 {
		libs, err := cuda.Libraries()
		if err != nil {
			fmt.Fprintf(w, "cuda: the GPU cannot be used, surfaces are computed on the CPU: %v\n", err)
		} else {
			fmt.Fprintf(w, "cuda: %s\n", libs)
		}
	}
	return nil
}
