// Package slot assigns the values of a forward pass to reusable buffers,
// for the backends that compile a network into a fixed sequence of steps.
package slot

import "slices"

// Allocator hands out reusable buffers (slots) for values by size: the
// smallest free slot big enough, else the biggest free one grown to fit,
// else a new one. A slot is released when its value's last reader has run.
type Allocator struct {
	// Size holds, per slot, the largest value it holds: after the last
	// Alloc, what each buffer must be able to hold.
	Size []int
	free []int
}

// Alloc returns a slot for a value of n elements.
func (a *Allocator) Alloc(n int) int {
	best := -1
	for k, s := range a.free {
		switch b := best; {
		case b < 0:
			best = k
		case a.Size[s] >= n && (a.Size[a.free[b]] < n || a.Size[s] < a.Size[a.free[b]]):
			best = k
		case a.Size[a.free[b]] < n && a.Size[s] > a.Size[a.free[b]]:
			best = k
		}
	}
	if best < 0 {
		a.Size = append(a.Size, n)
		return len(a.Size) - 1
	}
	s := a.free[best]
	a.free = append(a.free[:best], a.free[best+1:]...)
	a.Size[s] = max(a.Size[s], n)
	return s
}

// Release returns slot s to the free list (once, however often it is
// released).
func (a *Allocator) Release(s int) {
	if !slices.Contains(a.free, s) {
		a.free = append(a.free, s)
	}
}
