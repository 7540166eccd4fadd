// Package torch reads PyTorch checkpoints into state dicts, without
// Python and without executing anything in them.
//
// # Overview
//
// torch.save writes one of two formats, whatever the file's extension
// (.pt, .pth, .t7, .tar):
//
//   - the zip format (PyTorch 1.6 and later): a zip archive whose single
//     folder holds data.pkl, the pickled object, and data/0, data/1, ...,
//     the raw bytes of each storage (and, since PyTorch 2.1, a byteorder
//     file);
//   - the legacy format (before 1.6, or _use_new_zipfile_serialization=False):
//     pickles of a magic number, the protocol version 1001, system
//     information, the object and the list of storage keys, followed by
//     each storage as an int64 element count and its raw bytes.
//
// [Load] and [Read] recognise either by content; [ReadZip] and
// [ReadLegacy] read one. ReadLegacy also reads a checkpoint written with
// plain pickle.dump, whose storages are nested legacy checkpoints passed to
// torch.storage._load_from_bytes. The pickled object may be a state dict (an
// OrderedDict of tensors) or a dict holding one under a key that
// [StateDictKeys] lists ('state_dict', 'model_state_dict', 'model', ...),
// beside entries such as 'epoch', 'acc' or 'optimizer' that are ignored.
// Values of the state dict that are not tensors (_metadata, nested dicts)
// are skipped.
//
// # Tensors
//
// A pickled tensor is a view of a storage: an element offset, a size and a
// stride. Views are materialised element by element, so transposed,
// sliced, strided and expanded (stride 0) tensors come out as PyTorch
// shows them; views that reach outside their storage are refused. Several
// tensors may share one storage; each gets its own copy. Elements of type
// float32, float64, float16, bfloat16, int64, int32, int16, int8, uint8 and
// bool are converted to float32, and the original type is recorded in
// [nets.Tensor.DType]. Complex and quantized tensors are refused with
// [ErrUnsupported].
//
// # Safety
//
// The object is decoded by package internal/pickle with an allowlist of
// the PyTorch and NumPy globals a state dict needs (tensor and parameter
// rebuild functions, storage classes, collections.OrderedDict, NumPy
// scalars). Anything else, a pickled nn.Module or a malicious
// os.system call alike, is refused with an error naming the global. Sizes
// claimed by the file are checked against the bytes actually present
// before memory is allocated for them, zip entries' CRC-32 checksums are
// verified, and an archive naming one entry twice is refused.
//
// # Limits
//
// A few kilobytes can still describe gigabytes: a pickle may hand one
// storage to thousands of tensors or expand one element with stride 0, a
// deflated zip entry may expand a thousandfold, and zip entries may
// overlap. Every byte a checkpoint decodes to therefore counts against one
// budget: the storages read (each time one is read) and the tensors as
// float32 (each tensor, shared storage or not). The budget is
//
//	min(MaxDecodedBytes, 32 × file size + 256 MiB)
//
// that is 16 GiB at most. Real checkpoints stay far below 32 times their
// size: a float32 checkpoint decodes to about twice its size (its storages
// and its tensors), a float16 or bfloat16 one to three times, and tied
// weights (an embedding shared with the output layer, ...) add one copy
// per extra tensor of the storage; 256 MiB covers expanded buffers of
// small files. The tensors' total is checked, from the sizes the pickle
// gives, before any storage is read or tensor allocated. A checkpoint
// beyond the budget is refused with an error wrapping [ErrTooLarge] that
// names the file, the tensor or storage that crossed it and the sizes. The
// data.pkl of a zip checkpoint may not exceed 256 MiB (the pickle holds
// some 100 bytes per tensor), and its decoding is bounded as package
// internal/pickle bounds every pickle.
package torch
