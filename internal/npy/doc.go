// Package npy reads and writes NumPy's .npy array files and .npz archives.
//
// # Overview
//
// A .npy file is a magic string, a format version, a header that is a Python
// dict literal ({'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)})
// and the raw elements. [Read] decodes one; [ReadNPZ] decodes every .npy
// entry of an .npz zip archive (stored or deflated, as numpy.savez and
// numpy.savez_compressed write them) into an [Archive] that keeps the entry
// order. [ReadHeader] reads a header alone, leaving the elements to read.
//
// An [Array] always holds its elements as little-endian bytes in row-major
// (C) order: big-endian files are byte-swapped and Fortran-order files
// reordered when read, with [Array.Fortran] recording the latter. Element
// types are named as NumPy names them ("uint8", "int64", "float32", ...,
// plus "bfloat16" for arrays built with [FromBytes]); [Array.Float32],
// [Array.Int64] and [Array.Uint8] convert any of them. Object, string,
// complex and structured arrays are refused with [ErrDType], since they
// need pickle or have no numeric meaning here.
//
// [ToFloat32], [Float16ToFloat32] and [BFloat16ToFloat32] are shared with the
// checkpoint readers, which meet the same element types.
//
// # Safety
//
// Every length read from a file is checked before use: a header or data
// length claimed beyond the end of the input is an error, not an
// allocation. In an .npz archive, an entry must hold exactly its header
// and the elements the header claims, and its CRC-32 must match. A
// deflated entry of zeros expands a thousandfold, so the arrays of an
// archive may hold at most [DecodeLimit] bytes (32 times its size plus 256
// MiB, at most 16 GiB; [ReadNPZLimit] takes another limit); beyond it,
// the array is refused from its header with an error wrapping
// [ErrTooLarge]. [ReadHeader] and [OpenEntry] let a caller read only part
// of a large array.
//
// # Writing
//
// [Write] writes a float32 array, [WriteArray] any [Array], and [WriteNPZ]
// an uncompressed archive, all readable by numpy.load.
package npy
