//go:build (darwin || freebsd || linux || netbsd) && !android && !faketime

package cpu

import (
	"os"
	"strings"
	"testing"
)

// TestOpenBLASSaysWhoChoseItsKernels: where OPENBLAS_CORETYPE is set
// before landscape loads the library, the description (the first log line
// of hessian and train) says the variable chose the kernels, since an
// environment may set it unseen (a Haswell choice on an AVX-512 machine
// looked like landscape's); where landscape chose them, it says nothing
// more.
func TestOpenBLASSaysWhoChoseItsKernels(t *testing.T) {
	for _, name := range openBLASNames {
		t.Setenv("OPENBLAS_CORETYPE", "Haswell")
		_, desc, ok := openOpenBLAS(name)
		if !ok {
			continue
		}
		if !strings.Contains(desc, "as OPENBLAS_CORETYPE=Haswell asks") {
			t.Errorf("with OPENBLAS_CORETYPE=Haswell: %q does not say the variable chose", desc)
		}
		os.Unsetenv("OPENBLAS_CORETYPE")
		if _, desc, _ := openOpenBLAS(name); strings.Contains(desc, "asks") {
			t.Errorf("without OPENBLAS_CORETYPE: %q says a variable chose", desc)
		}
		return
	}
	t.Skip("no OpenBLAS library loads here (Debian: libopenblas0-pthread)")
}
