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
//
// # Limits
//
// A deflated entry of zeros expands a thousandfold, so the arrays of an
// archive may hold at most npy.DecodeLimit(size) bytes (32 times the
// archive's size plus 256 MiB, at most 16 GiB), and the same again as
// float32; beyond that Read fails with an error wrapping npy.ErrTooLarge
// that names the file, the array and the sizes, before the array is read.
package npz
