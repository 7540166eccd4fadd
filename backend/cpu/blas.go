package cpu

import (
	"sync"
	"unsafe"
)

// OpenBLAS is loaded at run time with purego, so the binary is built with
// CGO_ENABLED=0 and runs where the library is missing, with gonum's pure-Go
// SGEMM instead (about ten times slower). Options.BLAS "gonum" forces the
// fallback; a path picks a library.

var openBLASNames = []string{
	"libopenblas.so.0",
	"libopenblas.so",
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
	"/usr/lib64/libopenblas.so.0",
	"/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
	"/usr/local/opt/openblas/lib/libopenblas.dylib",
}

// openBLASCore is the OpenBLAS kernel family this CPU's instruction set
// allows ("" where none is known). OpenBLAS picks its kernels by the CPU's
// model number, and a model it does not know (a virtual machine's generic
// "Intel Xeon Processor", a CPU newer than the library) gets its oldest,
// SSE3 kernels, four times slower than its AVX-512 ones on the same
// machine (OpenBLAS 0.3.21: 20 against 87 GFLOP/s on one core). So
// landscape names the family itself while the library loads
// (OPENBLAS_CORETYPE), unless the user has: every machine of one
// instruction set then runs the same kernels, which sum in the same order.
var openBLASCore string

var (
	blasMu     sync.Mutex
	blasLoaded = map[string]loadedSgemm{} // by choice

	cblasSgemm func(order, transA, transB, m, n, k int32, alpha float32, a *float32, lda int32,
		b *float32, ldb int32, beta float32, c *float32, ldc int32)
)

// gonumName names the pure-Go SGEMM.
const gonumName = "gonum (pure Go)"

type loadedSgemm struct {
	f    sgemmFunc
	name string
}

// loadSgemm returns the SGEMM the engine calls for a choice of
// Options.BLAS, and its name: OpenBLAS if a library loads, gonum
// otherwise. Each choice is resolved once per process.
func loadSgemm(choice string) (sgemmFunc, string) {
	blasMu.Lock()
	defer blasMu.Unlock()
	if l, ok := blasLoaded[choice]; ok {
		return l.f, l.name
	}
	l := loadedSgemm{f: gonumSgemm, name: gonumName}
	names := openBLASNames
	if choice != "" {
		names = []string{choice}
	}
	for _, name := range names {
		if choice == "gonum" {
			break
		}
		if f, desc, ok := openOpenBLAS(name); ok {
			l = loadedSgemm{f, desc}
			break
		}
	}
	blasLoaded[choice] = l
	return l.f, l.name
}

// openBLASSgemm computes the row-major C = A·B as the column-major
// Cᵀ = Bᵀ·Aᵀ: the same memory, but OpenBLAS then takes the long pixel
// dimension (n) as its M, which suits its kernels far better when the
// channel count (m) is small.
func openBLASSgemm(m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const colMajor, noTrans = 102, 111
	_ = a[(m-1)*lda+k-1] // bounds: the library trusts us
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	cblasSgemm(colMajor, noTrans, noTrans, int32(n), int32(m), int32(k), 1,
		unsafe.SliceData(b), int32(ldb), unsafe.SliceData(a), int32(lda), beta, unsafe.SliceData(c), int32(ldc))
}

// openBLASSgemmT is sgemmTFunc by OpenBLAS's row-major interface.
func openBLASSgemmT(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	const rowMajor, noTrans, trans = 101, 111, 112
	ta, tb := int32(noTrans), int32(noTrans)
	ar, ac := m, k // rows and columns of A as stored
	if tA {
		ta, ar, ac = trans, k, m
	}
	br, bc := k, n
	if tB {
		tb, br, bc = trans, n, k
	}
	_ = a[(ar-1)*lda+ac-1] // bounds: the library trusts us
	_ = b[(br-1)*ldb+bc-1]
	_ = c[(m-1)*ldc+n-1]
	cblasSgemm(rowMajor, ta, tb, int32(m), int32(n), int32(k), 1,
		unsafe.SliceData(a), int32(lda), unsafe.SliceData(b), int32(ldb), beta, unsafe.SliceData(c), int32(ldc))
}
