package safetensors

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/nets"
)

// Sentinel errors that callers may test with [errors.Is].
var (
	// ErrFormat reports a file that is not valid safetensors.
	ErrFormat = errors.New("malformed safetensors file")
	// ErrDType reports an element type this package does not read.
	ErrDType = errors.New("unsupported dtype")
)

// MaxHeader is the largest header this package reads, the limit of the
// reference implementation.
const MaxHeader = 100 << 20

// metadataKey is the header entry that holds free-form string metadata.
const metadataKey = "__metadata__"

// dtypes maps safetensors dtype names to the names nets.Tensor records.
var dtypes = map[string]string{
	"F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
	"I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
	"U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8", "BOOL": "bool",
}

// entry is one tensor of the header.
type entry struct {
	name    string
	DType   string  `json:"dtype"`
	Shape   []int   `json:"shape"`
	Offsets []int64 `json:"data_offsets"`
}

// Read reads the safetensors file at path and returns its tensors, in the
// order of their data in the file, converted to float32 (the original type
// is recorded in DType), and its __metadata__ (nil if it has none).
func Read(path string) (*nets.StateDict, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	sd, meta, err := read(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %s: %w", path, err)
	}
	return sd, meta, nil
}

// ReadFrom reads a safetensors file of the given size from r; see [Read].
func ReadFrom(r io.ReaderAt, size int64) (*nets.StateDict, map[string]string, error) {
	sd, meta, err := read(r, size)
	if err != nil {
		return nil, nil, fmt.Errorf("safetensors: %w", err)
	}
	return sd, meta, nil
}

func read(r io.ReaderAt, size int64) (*nets.StateDict, map[string]string, error) {
	var pre [8]byte
	if size < 8 {
		return nil, nil, fmt.Errorf("file of %d bytes has no header: %w", size, ErrFormat)
	}
	if _, err := r.ReadAt(pre[:], 0); err != nil {
		return nil, nil, fmt.Errorf("reading header length: %w", noEOF(err))
	}
	n := binary.LittleEndian.Uint64(pre[:])
	if n > MaxHeader || n > uint64(size-8) {
		return nil, nil, fmt.Errorf("header length %d in a file of %d bytes: %w", n, size, ErrFormat)
	}
	hdr := make([]byte, n)
	if _, err := r.ReadAt(hdr, 8); err != nil {
		return nil, nil, fmt.Errorf("reading header: %w", noEOF(err))
	}
	entries, meta, err := parseHeader(hdr)
	if err != nil {
		return nil, nil, err
	}
	base := 8 + int64(n)
	if err := validate(entries, size-base); err != nil {
		return nil, nil, err
	}
	sd := &nets.StateDict{}
	for _, e := range entries {
		dtype := dtypes[e.DType]
		t := &nets.Tensor{Shape: e.Shape, DType: dtype, Data: hugemem.Float32s(nets.NumElements(e.Shape))}
		// Little-endian float32 on a little-endian machine is read
		// straight into the tensor: no second copy of a large file.
		raw, direct := npy.LittleEndianBytes(t.Data)
		direct = direct && dtype == "float32" && int64(len(raw)) == e.Offsets[1]-e.Offsets[0]
		if !direct {
			raw = make([]byte, e.Offsets[1]-e.Offsets[0])
		}
		if _, err := r.ReadAt(raw, base+e.Offsets[0]); err != nil {
			return nil, nil, fmt.Errorf("%s: reading data: %w", e.name, noEOF(err))
		}
		if direct {
			sd.Set(e.name, t)
			continue
		}
		if err := npy.ToFloat32(t.Data, raw, dtype, binary.LittleEndian); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", e.name, err)
		}
		sd.Set(e.name, t)
	}
	return sd, meta, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseHeader decodes the JSON header, keeping tensor names in order and
// refusing duplicates.
func parseHeader(hdr []byte) ([]*entry, map[string]string, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, fmt.Errorf("header is not a JSON object (starts %q): %w", prefix(hdr), ErrFormat)
	}
	var entries []*entry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, fmt.Errorf("header JSON: %v: %w", err, ErrFormat)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, nil, fmt.Errorf("header names %q twice: %w", name, ErrFormat)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, fmt.Errorf("%s is not a map of strings: %v: %w", metadataKey, err, ErrFormat)
			}
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, fmt.Errorf("header JSON: %v: %w", err, ErrFormat)
		}
		e := &entry{name: name}
		if err := json.Unmarshal(raw, e); err != nil {
			return nil, nil, fmt.Errorf("%s: header entry %s: %v: %w", name, raw, err, ErrFormat)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("header JSON: %v: %w", err, ErrFormat)
	}
	// Only padding may follow the object.
	rest, _ := io.ReadAll(dec.Buffered())
	if len(bytes.TrimRight(rest, " \t\r\n\x00")) != 0 {
		return nil, nil, fmt.Errorf("header has %q after its JSON object: %w", prefix(rest), ErrFormat)
	}
	return entries, meta, nil
}

func prefix(b []byte) []byte {
	if len(b) > 16 {
		return b[:16]
	}
	return b
}

// validate checks every entry against the data buffer of n bytes and sorts
// the entries by data offset.
func validate(entries []*entry, n int64) error {
	for _, e := range entries {
		dtype, ok := dtypes[e.DType]
		if !ok {
			return fmt.Errorf("%s: dtype %q: %w", e.name, e.DType, ErrDType)
		}
		if e.Shape == nil || len(e.Offsets) != 2 {
			return fmt.Errorf("%s: entry needs a shape and two data_offsets: %w", e.name, ErrFormat)
		}
		size, _ := npy.ItemSize(dtype)
		want := int64(size)
		for _, d := range e.Shape {
			if d < 0 {
				return fmt.Errorf("%s: shape %v: %w", e.name, e.Shape, ErrFormat)
			}
			if d != 0 && want > math.MaxInt64/int64(d) {
				return fmt.Errorf("%s: shape %v is too large: %w", e.name, e.Shape, ErrFormat)
			}
			want *= int64(d)
		}
		begin, end := e.Offsets[0], e.Offsets[1]
		if begin < 0 || end < begin || end > n {
			return fmt.Errorf("%s: data_offsets [%d %d] outside the %d-byte data: %w", e.name, begin, end, n, ErrFormat)
		}
		if end-begin != want {
			return fmt.Errorf("%s: %s%v needs %d bytes, data_offsets [%d %d] hold %d: %w",
				e.name, e.DType, e.Shape, want, begin, end, end-begin, ErrFormat)
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, b := entries[i].Offsets, entries[j].Offsets
		return a[0] < b[0] || a[0] == b[0] && a[1] < b[1]
	})
	for i := 1; i < len(entries); i++ {
		p, e := entries[i-1], entries[i]
		if e.Offsets[0] < p.Offsets[1] {
			return fmt.Errorf("%s: data_offsets %v overlap those of %s %v: %w", e.name, e.Offsets, p.name, p.Offsets, ErrFormat)
		}
	}
	return nil
}

// Write writes sd to path as a safetensors file of float32 tensors (I64
// for a tensor whose DType is "int64", such as a num_batches_tracked, so
// that PyTorch reads it back as it saved it), in the order of sd.Names(),
// with meta as its __metadata__ (none if meta is empty). It writes to a temporary file in the same folder and renames it,
// so that a failed write never leaves a partial file under path.
func Write(path string, sd *nets.StateDict, meta map[string]string) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteTo(w, sd, meta) }); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", path, err)
	}
	return nil
}

// WriteTo writes sd to w in the safetensors format; see [Write].
func WriteTo(w io.Writer, sd *nets.StateDict, meta map[string]string) error {
	var h bytes.Buffer
	h.WriteByte('{')
	if len(meta) > 0 {
		keys := make([]string, 0, len(meta))
		for k := range meta {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h.WriteString(`"` + metadataKey + `":{`)
		for i, k := range keys {
			if i > 0 {
				h.WriteByte(',')
			}
			writeJSON(&h, k)
			h.WriteByte(':')
			writeJSON(&h, meta[k])
		}
		h.WriteByte('}')
	}
	var off int64
	for i, name := range sd.Names() {
		t, _ := sd.Get(name)
		if name == metadataKey {
			return fmt.Errorf("safetensors: a tensor may not be called %s", metadataKey)
		}
		if n := nets.NumElements(t.Shape); n != len(t.Data) {
			return fmt.Errorf("safetensors: %s: shape %v holds %d elements, data has %d", name, t.Shape, n, len(t.Data))
		}
		if i > 0 || len(meta) > 0 {
			h.WriteByte(',')
		}
		writeJSON(&h, name)
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		s, _ := json.Marshal(shape)
		dtype, size := "F32", int64(4)
		if t.DType == "int64" {
			dtype, size = "I64", 8
		}
		end := off + size*int64(len(t.Data))
		fmt.Fprintf(&h, `:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}`, dtype, s, off, end)
		off = end
	}
	h.WriteByte('}')
	// Pad with spaces so that the data starts 8-byte aligned, as the
	// reference implementation does.
	for h.Len()%8 != 0 {
		h.WriteByte(' ')
	}
	var pre [8]byte
	binary.LittleEndian.PutUint64(pre[:], uint64(h.Len()))
	if _, err := w.Write(pre[:]); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	if _, err := w.Write(h.Bytes()); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	buf := make([]byte, 0, 1<<16)
	for _, name := range sd.Names() {
		t, _ := sd.Get(name)
		for _, v := range t.Data {
			buf = t.AppendValue(buf, v)
			if len(buf) > cap(buf)-8 { // the next value might not fit: an int64 after float32s
				if _, err := w.Write(buf); err != nil {
					return fmt.Errorf("safetensors: %w", err)
				}
				buf = buf[:0]
			}
		}
	}
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("safetensors: %w", err)
	}
	return nil
}

// writeJSON writes s as a JSON string.
func writeJSON(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // a string always marshals
	b.Write(enc)
}

// HeaderLooksValid reports whether b, the start of a file, looks like the
// start of a safetensors file: a plausible little-endian header length
// followed by '{'. size is the file's size.
func HeaderLooksValid(b []byte, size int64) bool {
	if len(b) < 9 {
		return false
	}
	n := binary.LittleEndian.Uint64(b)
	return n >= 2 && n <= MaxHeader && n <= uint64(size-8) && strings.HasPrefix(string(b[8:]), "{")
}
