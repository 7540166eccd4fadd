// Package onnx reads ONNX models and evaluates their graphs in plain Go,
// so that any network exported with torch.onnx.export — not only the 29
// architectures of package nets — can have its loss landscape computed.
//
// # Overview
//
// [Read] decodes an .onnx file into a [Model] whose [Graph] holds named
// values flowing between [Node] values in topological order, the
// initializers (for an exported network, its weights and batch-norm
// buffers) as typed [Tensor] values, the graph inputs and outputs, and the
// imported opsets. [Graph.Check] verifies that every node reads only
// values defined before it and that every operator is one the evaluator
// implements; an unsupported model gets one error, wrapping
// [ErrUnsupported], that lists every unsupported op type with its node
// names and the opset. [Graph.Run] evaluates the graph on named inputs,
// optionally with the float initializers replaced by a [nets.StateDict]
// of the same names and shapes — the weights of a point of a landscape;
// [Graph.Weights] returns the float initializers as such a state dict.
//
// # Evaluation
//
// The evaluator is a reference, not a fast engine: it computes floating-
// point values in float32 as PyTorch does on the CPU (float16, bfloat16
// and float64 tensors are held as float32 too), integers and bools as
// int64. [OpTypes] lists the 118 operators: first those torchvision CNNs
// and small transformers export to — Conv (groups, dilations, asymmetric
// pads, auto_pad), ConvTranspose, Gemm, MatMul with batch broadcasting,
// Einsum, numpy-broadcasting arithmetic and comparisons, the usual
// activations, pooling with ceil_mode and count_include_pad,
// BatchNormalization (inference), LayerNormalization and
// InstanceNormalization, reductions, Resize (nearest and linear), and the
// shape operators (Reshape, Slice, Gather, Concat, Expand, Pad...) — and
// the losses NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, so that
// a graph may end in its own loss. Where an operator changed between
// opsets (an attribute becoming an input, Softmax's axis semantics) the
// graph's default-domain opset selects the behaviour. Training-mode
// Dropout and BatchNormalization, MaxPool's indices output, cubic Resize,
// subgraphs (If, Loop, Scan), sequences, strings and sparse tensors are
// refused with [ErrUnsupported].
//
// The evaluator passes every ONNX backend node test (ONNX 1.12, as
// Debian's libonnx-testdata ships them) whose model it accepts; see
// TestONNXNodeTests.
//
// # Decoding
//
// The protobuf is decoded by hand with
// google.golang.org/protobuf/encoding/protowire, reading only the fields
// needed, rather than with message types generated from onnx.proto. The
// generated code (about 4,000 lines for onnx.proto3, plus the protoimpl
// runtime registration) would decode every message in full before any
// check could run, and would have to be regenerated and vendored with a
// pinned protoc; the hand decoder is some 600 lines, allocates only after
// a tensor's declared element count has been checked against the bytes
// that hold it, refuses subgraphs and unknown element types at the field
// where they appear, and names the node, attribute or tensor in every
// error.
//
// # Limits
//
// A model file cannot make the reader allocate beyond [Limits]: at most
// MaxNodes nodes, MaxDims dimensions per tensor, MaxExternalBytes of
// external data. Decoded tensor elements take at most [DecodedFactor]
// bytes per byte of the model file and of the external data it reads
// (checked on every tensor), since each element must be present in the
// input — raw_data must hold exactly count × item size bytes, typed fields
// exactly count values. External data (location, offset, length) is read
// only from the model's folder: absolute paths, "..", and symbolic links
// leading out of it are refused. At evaluation, values built from data
// (ConstantOfShape, Expand, Range, Tile) hold at most [MaxElements]
// elements. FuzzRead checks the decoded-size bound.
package onnx
