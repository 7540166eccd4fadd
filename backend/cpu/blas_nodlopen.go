//go:build !((darwin || freebsd || linux || netbsd) && !android && !faketime)

package cpu

// openOpenBLAS finds nothing where purego cannot load libraries: gonum's
// SGEMM runs.
func openOpenBLAS(string) (sgemmFunc, string, bool) { return nil, "", false }
