// Package npz reads state dicts stored as NumPy .npz archives.
//
// # Overview
//
// An .npz file is a zip archive of .npy arrays, one per name, as
// numpy.savez(path, **state_dict) writes it (numpy.savez_compressed
// deflates the entries). [Read] returns the arrays as a state dict whose
// names are the array names ("conv1.weight"), in archive order, converted
// to float32 with the original NumPy type in [nets.Tensor.DType].
// Fortran-ordered arrays are reordered to row-major; object, string and
// complex arrays are refused. The decoding itself is package internal/npy.
package npz
