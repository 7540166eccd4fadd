//go:build (darwin || freebsd || linux || netbsd) && !android && !faketime

package cpu

import (
	"os"
	"strings"

	"github.com/ebitengine/purego"
)

// openOpenBLAS loads the SGEMM of the OpenBLAS library name, with the
// kernels of openBLASCore unless the user chose others, and sets it to one
// thread. Its description names the kernels that run.
func openOpenBLAS(name string) (f sgemmFunc, desc string, ok bool) {
	chosen, byUser := os.LookupEnv("OPENBLAS_CORETYPE")
	if !byUser && openBLASCore != "" {
		// OpenBLAS reads it once, in its constructor, which dlopen runs.
		os.Setenv("OPENBLAS_CORETYPE", openBLASCore)
		defer os.Unsetenv("OPENBLAS_CORETYPE")
	}
	h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, "", false
	}
	if _, err := purego.Dlsym(h, "cblas_sgemm"); err != nil {
		return nil, "", false
	}
	purego.RegisterLibFunc(&cblasSgemm, h, "cblas_sgemm")
	// The engine runs one GEMM per worker goroutine: OpenBLAS's own threads
	// would only compete with them.
	if _, err := purego.Dlsym(h, "openblas_set_num_threads"); err == nil {
		var setThreads func(int32)
		purego.RegisterLibFunc(&setThreads, h, "openblas_set_num_threads")
		setThreads(1)
	}
	desc = "OpenBLAS"
	if _, err := purego.Dlsym(h, "openblas_get_config"); err == nil {
		var config func() string
		purego.RegisterLibFunc(&config, h, "openblas_get_config")
		if fields := strings.Fields(config()); len(fields) >= 2 {
			desc = fields[0] + " " + fields[1]
		}
	}
	if _, err := purego.Dlsym(h, "openblas_get_corename"); err == nil {
		var corename func() string
		purego.RegisterLibFunc(&corename, h, "openblas_get_corename")
		core := corename()
		if byUser {
			// Say whose choice it is: an environment may set it unseen.
			core += ", as OPENBLAS_CORETYPE=" + chosen + " asks"
		}
		desc += " (" + core + ")"
	}
	return openBLASSgemm, desc, true
}
