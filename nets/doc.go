// Package nets describes neural network architectures and their weights.
//
// # Overview
//
// A [Net] is an architecture of the model zoo of Li et al.'s reference code
// (cifar10/model_loader.py): its state-dict layout ([Param], with PyTorch's
// key names and shapes, in PyTorch's order) and its forward pass as a list
// of [Op] values — convolutions, eval-mode batch norms, ReLUs, additions,
// pools, concatenations, linear layers. A Net holds no numbers; backends
// combine it with a [StateDict] of weights and run it.
//
// [New] builds any of the 29 zoo architectures for a chosen input size and
// class count; [Models] lists them. [Net.Check] tells whether a checkpoint
// fits, naming every missing, unexpected and mis-shaped key.
//
// # Tensors
//
// A [Tensor] is float32 data in row-major order with PyTorch's shape:
// convolution weights are [out, in, kh, kw]. Checkpoint readers (the
// sub-packages torch, safetensors, npz and the format sniffer checkpoint)
// produce StateDicts of them.
package nets
