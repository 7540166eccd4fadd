package cpu

// BLAS names the SGEMM this process uses: OpenBLAS and its version when
// the library loads, gonum's pure-Go one otherwise.
func BLAS() string {
	_, name := loadSgemm("")
	return name
}

// Kernels names the micro-kernels that run the forward pass on this
// machine, or returns "" where there are none and the SGEMM engine runs.
func Kernels() string {
	if fastKernels == nil {
		return ""
	}
	return fastKernels.name
}
