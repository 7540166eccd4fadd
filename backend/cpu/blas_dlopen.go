//go:build (darwin || freebsd || linux || netbsd) && !android && !faketime

package cpu

import (
	"fmt"
	"strings"

	"github.com/ebitengine/purego"
)

// openOpenBLAS loads the SGEMM of the OpenBLAS library name and sets it to
// one thread. Its description names the kernels OpenBLAS chose; advice
// says how to get faster ones where it fell back to SSE3.
func openOpenBLAS(name string) (f sgemmFunc, desc, advice string, ok bool) {
	h, err := purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, "", "", false
	}
	if _, err := purego.Dlsym(h, "cblas_sgemm"); err != nil {
		return nil, "", "", false
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
		desc += " (" + core + ")"
		if legacyCores[core] && openBLASCore != "" {
			advice = fmt.Sprintf("OpenBLAS does not know this CPU and runs its SSE3 (%s) kernels; OPENBLAS_CORETYPE=%s selects its faster ones (README: OpenBLAS's kernels)", core, openBLASCore)
		}
	}
	return openBLASSgemm, desc, advice, true
}

// legacyCores are the OpenBLAS kernel families older than AVX that it
// falls back to on a CPU it does not recognise.
var legacyCores = map[string]bool{"Prescott": true, "Core2": true, "Penryn": true, "Dunnington": true, "Nehalem": true, "Atom": true}
