package cpu

// BLAS names the SGEMM this process uses: OpenBLAS and its version when
// the library loads, gonum's pure-Go one otherwise.
func BLAS() string {
	_, name := loadSgemm()
	return name
}
