//go:build (darwin || freebsd || linux || netbsd) && !android && !faketime

package cpu

import (
	"fmt"
	"strings"

	"github.com/ebitengine/purego"
)

// openOpenBLAS loads the SGEMM of the OpenBLAS library name and sets it to
// one thread.
func openOpenBLAS(name string) (f sgemmFunc, desc string, ok bool) {
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
		var core func() string
		purego.RegisterLibFunc(&core, h, "openblas_get_corename")
		desc += " (" + core() + ")"
		if legacyCores[core()] && openBLASCore != "" {
			desc += fmt.Sprintf(": OpenBLAS does not know this CPU and runs its SSE3 kernels; OPENBLAS_CORETYPE=%s selects its faster ones", openBLASCore)
		}
	}
	return openBLASSgemm, desc, true
}

// legacyCores are the OpenBLAS kernel families older than AVX that it
// falls back to on a CPU it does not recognise.
var legacyCores = map[string]bool{"Prescott": true, "Core2": true, "Penryn": true, "Dunnington": true, "Nehalem": true, "Atom": true}
