// Package checkpoint loads a state dict from a checkpoint file of any
// supported format, recognised by content.
//
// # Overview
//
// Checkpoint extensions say little: .pt, .pth, .t7, .tar and .bin may hold
// either PyTorch format. [Load] therefore sniffs the content with
// [Detect] and hands the file to the reader of its [Format]: package
// nets/torch for [TorchZip] and [TorchLegacy], nets/safetensors for
// [SafeTensors] and nets/npz for [NPZ]. Checkpoints saved from
// nn.DataParallel have "module." before every key; Load removes it when
// every key has it ([StripDataParallel]).
//
// Content of no known format is an error wrapping [ErrUnknownFormat] that
// names the file and shows its first bytes.
package checkpoint
