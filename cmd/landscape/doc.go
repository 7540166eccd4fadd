// Command landscape computes, exports and draws loss landscapes of neural
// networks, the method of Li et al., "Visualizing the Loss Landscape of
// Neural Nets" (NeurIPS 2018).
//
// Usage:
//
//	landscape <command> [flags]
//
// A model is an architecture of the zoo (landscape models) or a network
// exported from PyTorch as FILE.onnx.
//
// The commands:
//
//	surface     compute a 1D or 2D loss surface and write it as Parquet
//	merge       join the part files of a sharded run into one surface
//	demo        compare the surfaces of an embedded ResNet-56 with and without skip connections
//	directions  draw filter-normalised random directions and write them to a file
//	trajectory  PCA directions of a training trajectory, and the path projected on them
//	plane       directions of the plane through three checkpoints (Gram-Schmidt), and their coordinates
//	hessian     curvature at a checkpoint: extreme eigenvalues of the Hessian, its trace and eigenvalue density
//	inspect     list the tensors of a checkpoint file, or an ONNX model's graph
//	devices     report the CPU (and its BLAS) and the NVIDIA GPUs this machine offers
//	models      list the architectures of the model zoo
//	plot        draw contour, filled-contour, heat-map, 3D and 1D figures of a surface
//	compare     compare surfaces: side-by-side contours and a table of flatness figures
//	view        write an interactive page of surfaces (rotatable 3D, contours with a readout), and meshes (.obj .ply .glb)
//	export-vtk  write a surface as VTK PolyData (.vtp) for ParaView
//	convert     write a surface as CSV or JSON lines, with grid indices and the provenance beside it
//	train       train a network (CPU or GPU) with one of torch.optim's optimizers, a checkpoint per epoch
//	race        train with several optimizers from one initialisation and draw their paths on one surface
//	toy         race optimizers on a function of two variables and draw their paths
//	version     print the version
//
// Run "landscape <command> -h" for a command's flags. A flag means the
// same wherever it appears: the model, data, direction, grid and compute
// flags are defined once (flags.go) and shared.
//
// Each command is a thin file: it parses its flags into the library's
// types, makes one call to package landscape (or export), and prints what
// came of it. The exit status is 0 on success, 1 on failure, 2 for a
// mistake in the command line, 3 for an internal error (a bug) and 130
// when interrupted (Ctrl-C or SIGTERM; a surface run saves its finished
// points first).
//
// # Environment
//
// The environment is read once, by the command line, and passed to the
// library as options:
//
//	LANDSCAPE_CPU=generic          the portable im2col + SGEMM engine instead of the micro-kernels
//	LANDSCAPE_WINOGRAD=0           every convolution computed directly
//	LANDSCAPE_BLAS=gonum|PATH      the SGEMM of the portable engine
//	LANDSCAPE_CUDNN_BENCHMARK=1    time cuDNN's convolution algorithms (may change the last bits)
//	LANDSCAPE_PROFILE=1            on stderr at the end, the GPU graph interpreter's time by operator
//	LANDSCAPE_CUDA_PATH            folders holding the CUDA libraries
//	SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX   the shard of a job array
package main
