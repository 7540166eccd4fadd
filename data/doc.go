// Package data loads labelled image datasets into memory as normalised
// float32 tensors, for evaluating a network's loss and accuracy over them.
//
// # Overview
//
// A loss-landscape run evaluates the same network, at many weight settings,
// over the same data. The data is therefore read and normalised once, held
// as one [Dataset] (images N×C×H×W in NCHW order, labels in [0, Classes)),
// and handed to a backend that keeps it resident.
//
// A dataset is named by a [Spec], parsed from the command line's KIND:PATH
// form by [ParseSpec], and read by [Load] for one split, "train" or "test":
//
//	spec, err := data.ParseSpec("cifar10:/data/cifar")
//	...
//	test, err := data.Load(spec, data.Test, nil)
//
// # Formats
//
// The kinds ([Kind]) and the files they read:
//
//   - [CIFAR10] and [CIFAR100]: the binary archives (cifar-10-batches-bin,
//     cifar-100-binary: fixed-size records of label byte(s) and 3072 image
//     bytes; CIFAR-100 keeps the fine label) or the Python ones
//     (cifar-10-batches-py, cifar-100-python: pickled dicts with a uint8
//     data array and a labels or fine_labels list, as Python 2 wrote them
//     or as Python 3 re-pickles them). The pickles are decoded without
//     executing anything: the only globals they may name are NumPy's array
//     reconstructors. The path is the archive folder or the folder holding
//     it.
//   - [MNIST] and [FashionMNIST]: the split's two IDX files (images and
//     labels, train-* or t10k-*), gzipped or not, in the folder, its raw/
//     subfolder, or torchvision's MNIST/raw or FashionMNIST/raw. [ReadIDX] reads the same format from any pair of
//     readers, such as files embedded in a binary.
//   - [NPZ]: a NumPy archive with arrays x, of shape (N, C, H, W) or
//     (N, H, W), and y, of shape (N,) and an integer type; or x_train,
//     y_train, x_test, y_test as Keras' mnist.npz has them, chosen by split.
//     uint8 images are scaled and normalised like the other kinds; float
//     images are taken as already normalised and copied as they are. The
//     class count is max(y)+1 unless [Options].Classes says otherwise.
//
// Every reader checks what it reads against its header: magic numbers and
// dimensions, that image and label counts agree, that a file is exactly as
// long as its header says, and that every label is in range. Errors name
// the file and wrap one of the sentinel errors ([ErrFormat], [ErrLabel],
// [ErrEmpty], ...) or fs.ErrNotExist.
//
// # Normalisation
//
// Values match torchvision's transforms.ToTensor followed by
// transforms.Normalize(mean, std) bit for bit: a byte b becomes
// x = float32(b)/255, computed in float32, then (x − float32(mean)) /
// float32(std), again in float32. [DefaultNorm] gives each kind's
// constants, those of the reference implementation for CIFAR-10; [Options]
// may replace them.
//
// # Subsets
//
// Loss landscapes are often computed on part of a dataset. [Options].Samples
// takes the first N samples in file order, or with [Options].SampleSeed a
// seeded random subset (kept in file order, the same for the same seed on
// every run and machine). Only the chosen samples are converted to float32,
// CIFAR binary files are read record by record, and the arrays of an npz
// archive are streamed, up to the last chosen image only, so a small
// subset of a large split costs little memory, even from a deflated
// archive that would expand a thousandfold.
//
// # Memory
//
// Load checks what it will allocate against a memory budget,
// [Options].MaxBytes ([DefaultMaxBytes], 8 GiB, if 0), before allocating
// it: 4 bytes per value and per label of the chosen samples, plus, for the
// Python CIFAR layout, the pickled batches, which are decoded whole. A
// split beyond the budget is an error wrapping [ErrTooLarge] that names the
// file and the sizes and suggests --samples, rather than a crash of the
// runtime.
package data
