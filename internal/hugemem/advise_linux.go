package hugemem

import (
	"syscall"
	"unsafe"
)

// madvHugepage is MADV_HUGEPAGE.
const madvHugepage = 14

// advise asks Linux to back the whole huge pages inside [p, p+n) with
// transparent huge pages. It must come before the memory is first
// touched: pages already there stay small. Go's heap hands large
// allocations fresh from the system, untouched. The advice may be
// refused (an old kernel, huge pages off): that is no error.
func advise(p unsafe.Pointer, n uintptr) {
	start := uintptr(p)
	lo := (start + hugePage - 1) &^ (hugePage - 1)
	hi := (start + n) &^ (hugePage - 1)
	if hi <= lo {
		return
	}
	_ = syscall.Madvise(unsafe.Slice((*byte)(unsafe.Add(p, lo-start)), hi-lo), madvHugepage)
}
