package filekind

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"strconv"
	"unicode/utf8"
)

// Kind is a kind of file, as its first bytes show it.
type Kind int

// The kinds [Detect] tells apart.
const (
	Unknown     Kind = iota // nothing certain: binary data of no kind below
	Empty                   // no bytes at all
	Parquet                 // "PAR1" (a surface)
	SafeTensors             // an 8-byte header length, then '{' (a checkpoint or a direction file)
	Zip                     // "PK\x03\x04" (a PyTorch checkpoint, an npz)
	Pickle                  // a binary pickle (a legacy PyTorch checkpoint)
	NPY                     // "\x93NUMPY" (one NumPy array)
	ONNX                    // a protobuf that begins as ONNX's ModelProto does
	JSON                    // text starting with '{' or '['
	CSV                     // text whose first line holds a comma
	Text                    // other text
	PNG
	JPEG
	PDF
	SVG
)

var phrases = [...]string{
	Unknown:     "data of an unrecognised kind",
	Empty:       "an empty file",
	Parquet:     "a Parquet file (the format of surfaces)",
	SafeTensors: "a safetensors file (the format of checkpoints and direction files)",
	Zip:         "a zip archive (the format of PyTorch checkpoints and npz files)",
	Pickle:      "a pickle (the format of legacy PyTorch checkpoints)",
	NPY:         "a NumPy .npy array",
	ONNX:        "an ONNX model",
	JSON:        "JSON",
	CSV:         "CSV text",
	Text:        "text",
	PNG:         "a PNG image",
	JPEG:        "a JPEG image",
	PDF:         "a PDF document",
	SVG:         "an SVG image",
}

// String returns the kind as a phrase for an error message: "CSV text",
// "a Parquet file (the format of surfaces)".
func (k Kind) String() string {
	if k < 0 || int(k) >= len(phrases) {
		return "Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return phrases[k]
}

// HeadSize is the number of first bytes [Detect] looks at.
const HeadSize = 512

// Of returns the kind of the file at path, or [Unknown] if it cannot be
// read (its opener's error is the one to report).
func Of(path string) Kind {
	f, err := os.Open(path)
	if err != nil {
		return Unknown
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return Unknown
	}
	return DetectAt(f, st.Size())
}

// DetectAt returns the kind of the size bytes of r (see [Detect]).
func DetectAt(r io.ReaderAt, size int64) Kind {
	head := make([]byte, min(size, HeadSize))
	n, err := r.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return Unknown
	}
	return Detect(head[:n], size)
}

// Detect returns the kind of a file of size bytes that begins with head
// (its first [HeadSize] bytes, or all of a shorter file).
func Detect(head []byte, size int64) Kind {
	switch {
	case size == 0:
		return Empty
	case bytes.HasPrefix(head, []byte("PAR1")):
		return Parquet
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip
	case bytes.HasPrefix(head, []byte("\x93NUMPY")):
		return NPY
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		return PNG
	case bytes.HasPrefix(head, []byte("\xff\xd8\xff")):
		return JPEG
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return PDF
	case len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5,
		bytes.HasPrefix(head, []byte("L119547037146038801333356L\n.")): // PyTorch's magic number at protocol 0 or 1
		return Pickle
	case safeTensors(head, size):
		return SafeTensors
	case LooksLikeONNX(head):
		return ONNX
	}
	return text(head)
}

// safeTensors reports whether head begins as a safetensors file does: a
// little-endian header length that fits in the file, then '{'.
func safeTensors(head []byte, size int64) bool {
	if len(head) < 9 || size < 10 {
		return false
	}
	n := binary.LittleEndian.Uint64(head)
	return n >= 2 && n <= uint64(size-8) && head[8] == '{'
}

// LooksLikeONNX reports whether head begins as an ONNX ModelProto written
// by protobuf does: field 1 (ir_version, varint) holding a version from 1
// to 31, then the tag of another field of ModelProto (producer_name,
// producer_version, domain, model_version, doc_string, graph,
// opset_import).
func LooksLikeONNX(head []byte) bool {
	if len(head) < 3 || head[0] != 0x08 || head[1] < 1 || head[1] > 31 {
		return false
	}
	switch head[2] {
	case 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42:
		return true
	}
	return false
}

// text returns the kind of head as text (JSON, CSV, SVG or plain), or
// Unknown where it is not text: invalid UTF-8 (but for a rune cut at the
// end of head) or control characters other than white space.
func text(head []byte) Kind {
	for i := 0; i < len(head); {
		r, n := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && n <= 1 && !(len(head) == HeadSize && len(head)-i < utf8.UTFMax) {
			return Unknown
		}
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' || r == 0x7f {
			return Unknown
		}
		i += n
	}
	t := bytes.TrimLeft(head, " \t\r\n\ufeff")
	line, _, _ := bytes.Cut(t, []byte("\n"))
	switch {
	case len(t) > 0 && (t[0] == '{' || t[0] == '['):
		return JSON
	case bytes.HasPrefix(t, []byte("<?xml")) && bytes.Contains(t, []byte("<svg")), bytes.HasPrefix(t, []byte("<svg")):
		return SVG
	case bytes.ContainsRune(line, ','):
		return CSV
	}
	return Text
}
