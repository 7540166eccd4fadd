// Package cuda evaluates loss surfaces on NVIDIA GPUs. The CUDA driver,
// cuBLAS, cuDNN and NVRTC are loaded at run time with purego, so the binary
// is built with CGO_ENABLED=0, needs no CUDA toolkit, and runs unchanged on
// machines without a GPU.
//
// # Overview
//
// [Probe] loads libcuda.so.1 and lists the devices with their compute
// capability and memory, or says why there are none (no driver, no device,
// an initialisation error): what "landscape devices" prints and what
// --device auto consults. [Libraries] finds cuBLAS, cuDNN and NVRTC: in
// LANDSCAPE_CUDA_PATH, the NVIDIA wheels that come with PyTorch (in
// VIRTUAL_ENV, CONDA_PREFIX or beside any python3 on PATH), a CUDA toolkit,
// or the system's library folders.
//
// [New] makes an [Evaluator], the GPU counterpart of the CPU backend:
// the data is uploaded once; at each point the weights θ + αu + βv are
// formed on the device, the forward passes run in batches sized from free
// memory, and loss and accuracy are reduced on the device, so that a few
// bytes per point cross the bus. The forward pass is compiled into steps
// (plan.go): each convolution is one cuDNN call followed by one pass that
// applies its bias, batch norm, residual add and ReLU. Arithmetic is FP32
// unless TF32 is asked for, and every reduction runs in a fixed order, so a
// point's values do not depend on what else runs.
//
// A network given by an ONNX graph whose operators the engines do not run
// (layer norm, GELU, attention: ViT, ConvNeXt, transformer language
// models) runs on the graph interpreter (graph.go, graph.cu) instead of
// the steps: the graph is planned once for the batch size, its arithmetic
// on shapes and constants done on the host by the reference evaluator's
// code, its other nodes made kernel launches and cuBLAS and cuDNN calls,
// and the plan replayed at every point (the work on the weights alone)
// and every batch. Its kernels round as the reference evaluator does.
//
// [NewDifferentiator] makes a [Differentiator], the GPU counterpart of the
// CPU backend's: gradients and exact Hessian-vector products (forward over
// reverse) of the mean loss, batch norm in eval mode, and training steps
// (batch norm in training mode), for every network the evaluator runs. A
// chunk's forward pass keeps every value and its tangent;
// the backward pass runs cuDNN's input- and weight-gradient products with
// deterministic FP32 algorithms and diff.cu's kernels, whose sums run in a
// fixed order.
//
// All CUDA calls of an evaluator run on one goroutine locked to its OS
// thread, because a CUDA context is current per thread.
//
// # Testing without a GPU
//
// The tests run the evaluator and the differentiator on a host device:
// the kernels compiled for the CPU with g++ and loaded with purego, device
// memory mapped on the host, and cuDNN's and cuBLAS's products written out
// after their documented semantics (hostdevice_test.go). Every launch,
// copy and library call is made as on a GPU; what the host device cannot
// check, the libraries' real behaviour and the GPU's concurrency, the GPU
// check (scripts/gpu-check.sh) does.
package cuda
