//go:build !amd64

package cpu

// There are no micro-kernels for this architecture yet: the SGEMM engine
// runs.
