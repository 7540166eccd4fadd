// Package safetensors reads and writes state dicts in the safetensors
// format.
//
// # Overview
//
// A safetensors file is an 8-byte little-endian header length, a JSON
// header that maps each tensor name to its dtype, shape and data_offsets
// (begin and end, relative to the data section) plus an optional
// "__metadata__" map of strings, and the raw little-endian tensor data.
// Nothing in it is executable, which makes it the safe way to exchange
// weights.
//
// [Read] validates the header before it trusts it: the length is bounded
// by [MaxHeader] and by the file, the JSON must be well-formed with no
// repeated names, every dtype known, every shape's byte size equal to its
// offsets' span, every span inside the file, and no two spans
// overlapping. Tensors come back in the order of their data in the file,
// converted to float32 with the original type in [nets.Tensor.DType]
// (F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL).
//
// [Write] writes float32 tensors in state-dict order, through a temporary
// file renamed into place. Direction files (see package normalize) use
// this format with names "x.<state-dict key>" and "y.<state-dict key>".
package safetensors
