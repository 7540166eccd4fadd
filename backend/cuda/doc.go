// Package cuda finds NVIDIA GPUs through the CUDA driver, loaded at run
// time with purego, so the binary is built with CGO_ENABLED=0, needs no CUDA
// toolkit, and runs unchanged on machines without a GPU.
//
// # Overview
//
// [Probe] loads libcuda.so.1 and lists the devices with their compute
// capability and memory, or says why there are none (no driver, no device,
// an initialisation error). It is what "landscape devices" prints and what
// --device auto will consult.
//
// The evaluator that runs the forward passes on the GPU (data resident on
// the device, θ + αu + βv formed there, several grid points per pass) is
// not written yet: it needs a GPU to be verified, and the CPU backend serves
// every run until then.
package cuda
