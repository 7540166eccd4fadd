package checkpoint

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/internal/filekind"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/npz"
	"github.com/landscape-go/landscape/nets/onnx"
	"github.com/landscape-go/landscape/nets/safetensors"
	"github.com/landscape-go/landscape/nets/torch"
)

// Format is a checkpoint file format.
type Format int

// The formats [Load] recognises.
const (
	Unknown     Format = iota
	TorchZip           // torch.save, PyTorch 1.6 and later
	TorchLegacy        // torch.save before 1.6, or _use_new_zipfile_serialization=False
	SafeTensors        // safetensors
	NPZ                // numpy.savez of a state dict
	ONNX               // an ONNX model: its parameters (see onnx.Graph.Weights)
)

// String returns the format's name: "torch-zip", "torch-legacy",
// "safetensors", "npz", "onnx" or "unknown".
func (f Format) String() string {
	switch f {
	case TorchZip:
		return "torch-zip"
	case TorchLegacy:
		return "torch-legacy"
	case SafeTensors:
		return "safetensors"
	case NPZ:
		return "npz"
	case ONNX:
		return "onnx"
	case Unknown:
		return "unknown"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// ErrUnknownFormat reports content that is none of the known formats.
var ErrUnknownFormat = errors.New("unrecognised checkpoint format")

// DataParallelPrefix is the prefix nn.DataParallel and
// DistributedDataParallel give every state-dict key.
const DataParallelPrefix = "module."

// CompilePrefix is the prefix torch.compile's wrapper gives every
// state-dict key of the model it compiled.
const CompilePrefix = "_orig_mod."

// Load reads the checkpoint at path, recognising its format by content
// (see [Detect]), not by extension, and returns its state dict and format.
// If every key starts with [DataParallelPrefix] or [CompilePrefix], the
// prefixes are removed (see [StripDataParallel]).
func Load(path string) (*nets.StateDict, Format, error) {
	sd, format, _, err := LoadDecoded(path)
	return sd, format, err
}

// LoadDecoded is [Load] that also returns, for an ONNX file, the model it
// decoded (nil for any other format): a caller that needs the graph too,
// as for a model that is its own checkpoint, need not decode it again.
func LoadDecoded(path string) (*nets.StateDict, Format, *onnx.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Unknown, nil, fmt.Errorf("checkpoint: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, Unknown, nil, fmt.Errorf("checkpoint: %w", err)
	}
	format, err := Detect(f, st.Size())
	f.Close()
	if err != nil {
		return nil, Unknown, nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	var sd *nets.StateDict
	var m *onnx.Model
	switch format {
	case TorchZip, TorchLegacy:
		sd, err = torch.Load(path)
	case SafeTensors:
		sd, _, err = safetensors.Read(path)
	case NPZ:
		sd, err = npz.Read(path)
	case ONNX:
		if m, err = onnx.Read(path, nil); err == nil {
			sd = m.Graph.Weights()
		}
	}
	if err != nil {
		return nil, format, nil, err
	}
	StripDataParallel(sd)
	return sd, format, m, nil
}

// StripDataParallel removes the wrappers' prefixes, [DataParallelPrefix]
// and [CompilePrefix], one after the other in any order (a compiled model
// in DistributedDataParallel has "module._orig_mod."), as long as every
// key has one, and reports whether it removed any.
func StripDataParallel(sd *nets.StateDict) bool {
	stripped := false
	for sd.Len() > 0 {
		found := false
		for _, prefix := range []string{DataParallelPrefix, CompilePrefix} {
			if !slices.ContainsFunc(sd.Names(), func(n string) bool { return !strings.HasPrefix(n, prefix) }) {
				sd.StripPrefix(prefix)
				found, stripped = true, true
			}
		}
		if !found {
			break
		}
	}
	return stripped
}

// Detect returns the format of the size bytes of r by their content:
//
//   - a zip archive holding a data.pkl is a PyTorch zip checkpoint;
//   - a zip archive holding .npy entries is an .npz;
//   - a binary pickle (0x80 and a protocol number 2 to 5), or PyTorch's
//     magic number pickled at protocol 0 or 1 (the decimal text
//     "L119547037146038801333356L"), is a legacy PyTorch checkpoint;
//   - an 8-byte little-endian length, within the file, followed by '{' is
//     safetensors;
//   - a protobuf that begins as ONNX's ModelProto does (ir_version, a small
//     number, then another of its fields) is an ONNX model.
//
// Anything else is an error wrapping [ErrUnknownFormat] that shows the
// first bytes.
func Detect(r io.ReaderAt, size int64) (Format, error) {
	var head [32]byte
	n, err := r.ReadAt(head[:], 0)
	if err != nil && err != io.EOF {
		return Unknown, err
	}
	b := head[:n]
	switch {
	case n >= 4 && (string(b[:4]) == "PK\x03\x04" || string(b[:4]) == "PK\x05\x06"):
		return detectZip(r, size)
	case torch.LegacyMagic(b):
		return TorchLegacy, nil
	case safetensors.HeaderLooksValid(b, size):
		return SafeTensors, nil
	case filekind.LooksLikeONNX(b):
		return ONNX, nil
	case n >= 6 && string(b[:6]) == "\x93NUMPY":
		return Unknown, fmt.Errorf("a single .npy array, not a state dict: %w", ErrUnknownFormat)
	}
	b = b[:min(n, 16)]
	return Unknown, fmt.Errorf("%w: %d bytes starting % x (%q)", ErrUnknownFormat, size, b, b)
}

func detectZip(r io.ReaderAt, size int64) (Format, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return Unknown, fmt.Errorf("zip archive: %v: %w", err, ErrUnknownFormat)
	}
	npy := false
	var names []string
	for _, f := range z.File {
		if path.Base(f.Name) == "data.pkl" && strings.Count(f.Name, "/") <= 1 {
			return TorchZip, nil
		}
		npy = npy || strings.HasSuffix(f.Name, ".npy")
		if len(names) < 5 {
			names = append(names, f.Name)
		}
	}
	if npy {
		return NPZ, nil
	}
	return Unknown, fmt.Errorf("zip archive with neither data.pkl nor .npy entries (%s): %w", strings.Join(names, " "), ErrUnknownFormat)
}
