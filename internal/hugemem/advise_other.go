//go:build !linux

package hugemem

import "unsafe"

// advise does nothing where there is no transparent huge page to ask for.
func advise(unsafe.Pointer, uintptr) {}
