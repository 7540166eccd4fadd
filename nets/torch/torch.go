package torch

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"os"
	"path"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/internal/hugemem"
	"github.com/landscape-go/landscape/internal/npy"
	"github.com/landscape-go/landscape/internal/pickle"
	"github.com/landscape-go/landscape/nets"
)

// Sentinel errors that callers may test with [errors.Is]. Errors from the
// unpickler, such as *pickle.GlobalError for a global outside the
// allowlist, are wrapped as they are.
var (
	// ErrFormat reports a file that is not a well-formed PyTorch checkpoint.
	ErrFormat = errors.New("malformed checkpoint")
	// ErrUnsupported reports a valid checkpoint feature this package does
	// not read: a pickled nn.Module, complex or quantized storages, the
	// tar format of PyTorch before 0.1.10.
	ErrUnsupported = errors.New("unsupported checkpoint feature")
	// ErrNoStateDict reports a checkpoint whose content has no state dict.
	ErrNoStateDict = errors.New("no state dict found")
	// ErrTooLarge reports a checkpoint that would decode to more than the
	// limits of the package doc's Limits section allow.
	ErrTooLarge = errors.New("checkpoint too large to decode")
)

// Decoding limits; the package doc's Limits section explains them.
const (
	// MaxDecodedBytes bounds the bytes of the storages and float32
	// tensors one checkpoint decodes to, whatever its size.
	MaxDecodedBytes = 16 << 30
	// decodeRatio and decodeSlack bound them relative to the file.
	decodeRatio = 32
	decodeSlack = 256 << 20
	// maxPickle bounds the data.pkl of a zip checkpoint.
	maxPickle = 256 << 20
)

// legacyMagic is the number the legacy format pickles first.
var legacyMagic, _ = new(big.Int).SetString("1950a86a20f9469cfc6c", 16)

// legacyMagicText is the magic number as pickle protocols 0 and 1 write
// it: a LONG opcode in decimal, then STOP.
var legacyMagicText = []byte("L" + legacyMagic.String() + "L\n.")

// legacyProtocol is the only legacy protocol version PyTorch ever wrote.
const legacyProtocol = 1001

// stateDictKeys are the keys under which a checkpoint dict that is not
// itself a state dict is searched for one, in order.
var stateDictKeys = []string{"state_dict", "model_state_dict", "model", "net", "network", "module", "state"}

// StateDictKeys returns the keys under which a checkpoint dict that is not
// itself a state dict is searched for one, in the order they are tried.
// The slice is a copy: changing it does not change what [Load] looks for.
func StateDictKeys() []string { return slices.Clone(stateDictKeys) }

// Load reads the PyTorch checkpoint at path, in either format torch.save
// writes, whatever its extension (.pt, .pth, .t7, .tar, .bin), and returns
// its state dict with every tensor converted to float32.
func Load(path string) (*nets.StateDict, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("torch: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("torch: %w", err)
	}
	sd, err := read(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("torch: %s: %w", path, err)
	}
	return sd, nil
}

// Read reads a PyTorch checkpoint of the given size from r; see [Load].
func Read(r io.ReaderAt, size int64) (*nets.StateDict, error) {
	sd, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("torch: %w", err)
	}
	return sd, nil
}

func read(r io.ReaderAt, size int64) (*nets.StateDict, error) {
	return readBudget(r, size, newBudget(size, decodeSlack))
}

// readBudget reads a checkpoint in either format within the budget b.
func readBudget(r io.ReaderAt, size int64, b *budget) (*nets.StateDict, error) {
	var head [512]byte
	n, _ := r.ReadAt(head[:], 0)
	switch {
	case n >= 4 && (string(head[:4]) == "PK\x03\x04" || string(head[:4]) == "PK\x05\x06"):
		return readZip(r, size, b)
	case n >= 262 && string(head[257:262]) == "ustar":
		return nil, fmt.Errorf("tar checkpoint of PyTorch before 0.1.10: %w", ErrUnsupported)
	}
	return readLegacy(io.NewSectionReader(r, 0, size), b)
}

// LegacyMagic reports whether head, the first bytes of a file, starts
// like a legacy checkpoint: a binary pickle (protocol 2 and later open
// with 0x80 and the protocol number), or PyTorch's magic number as
// protocols 0 and 1 write it, a LONG opcode in decimal text.
func LegacyMagic(head []byte) bool {
	return len(head) >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5 ||
		bytes.HasPrefix(head, legacyMagicText)
}

// ReadZip reads a checkpoint in the zip format of PyTorch 1.6 and later:
// an archive holding <name>/data.pkl, the pickled object, and
// <name>/data/<key>, the raw bytes of each storage.
func ReadZip(r io.ReaderAt, size int64) (*nets.StateDict, error) {
	sd, err := readZip(r, size, newBudget(size, decodeSlack))
	if err != nil {
		return nil, fmt.Errorf("torch: %w", err)
	}
	return sd, nil
}

// ReadLegacy reads a checkpoint in the legacy format of PyTorch before 1.6
// (still written with _use_new_zipfile_serialization=False): pickles of a
// magic number, a protocol version, system information, the object and
// its storage keys, followed by each storage as an element count and raw
// bytes.
func ReadLegacy(r io.Reader) (*nets.StateDict, error) {
	// The size is unknown: the budget grows with the bytes read.
	cr := &countingReader{r: r}
	b := &budget{size: func() int64 { return cr.n }, slack: decodeSlack}
	sd, err := readLegacy(cr, b)
	if err != nil {
		return nil, fmt.Errorf("torch: %w", err)
	}
	return sd, nil
}

func readZip(r io.ReaderAt, size int64, b *budget) (*nets.StateDict, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, ErrFormat)
	}
	files := map[string]*zip.File{}
	var pkl *zip.File
	for _, f := range z.File {
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("zip entry %s appears twice: %w", f.Name, ErrFormat)
		}
		files[f.Name] = f
		if path.Base(f.Name) == "data.pkl" && strings.Count(f.Name, "/") <= 1 && pkl == nil {
			pkl = f
		}
	}
	if pkl == nil {
		return nil, fmt.Errorf("zip archive without data.pkl: %w", ErrFormat)
	}
	prefix := strings.TrimSuffix(pkl.Name, "data.pkl")
	l := newLoader(b)
	if f, ok := files[prefix+"byteorder"]; ok { // since PyTorch 2.1: "little" or "big"
		if f.UncompressedSize64 > 16 {
			return nil, fmt.Errorf("%s claims %d bytes: %w", f.Name, f.UncompressedSize64, ErrFormat)
		}
		rec, err := readEntry(f, int64(f.UncompressedSize64))
		if err != nil {
			return nil, err
		}
		switch string(bytes.TrimSpace(rec)) {
		case "little":
		case "big":
			l.order = binary.BigEndian
		default:
			return nil, fmt.Errorf("%s holds %q, not little or big: %w", f.Name, rec, ErrFormat)
		}
	}
	// The pickle holds names and shapes, some 100 bytes a tensor: 256 MiB
	// is millions of tensors, with room for NumPy arrays and lists saved
	// beside them. Its deflated size may claim 1024 times the file.
	if limit := min(uint64(size)*1024, maxPickle); pkl.UncompressedSize64 > limit {
		return nil, fmt.Errorf("%s claims %d bytes, over the limit of %d for a %d-byte file (1024 × its size, at most 256 MiB): %w",
			pkl.Name, pkl.UncompressedSize64, limit, size, ErrTooLarge)
	}
	p, err := readEntry(pkl, int64(pkl.UncompressedSize64))
	if err != nil {
		return nil, err
	}
	obj, err := pickle.Load(bytes.NewReader(p), l.options())
	if err != nil {
		return nil, fmt.Errorf("%s: %w%s", pkl.Name, err, hint(err))
	}
	return l.stateDict(obj, func(st *storage) error {
		name := prefix + "data/" + st.key
		f, ok := files[name]
		if !ok {
			return fmt.Errorf("storage %s: no entry %s: %w", st.key, name, ErrFormat)
		}
		want, err := byteSize(st)
		if err != nil {
			return err
		}
		if f.UncompressedSize64 != uint64(want) {
			return fmt.Errorf("storage %s: %s holds %d bytes, %s[%d] needs %d: %w",
				st.key, name, f.UncompressedSize64, st.dtype, st.numel, want, ErrFormat)
		}
		// A deflated entry may expand a thousandfold, and entries may
		// overlap: every storage counts against the budget.
		if err := l.budget.take(want, "storage "+st.key+" ("+name+")"); err != nil {
			return err
		}
		b, err := readEntry(f, want)
		if err != nil {
			return fmt.Errorf("storage %s: %w", st.key, err)
		}
		st.data, st.order = b, l.order
		return nil
	})
}

// byteSize returns the number of bytes of st's elements.
func byteSize(st *storage) (int64, error) {
	size, err := npy.ItemSize(st.dtype)
	if err != nil {
		return 0, err
	}
	if st.numel > math.MaxInt64/int64(size) {
		return 0, fmt.Errorf("storage %s of %d elements: %w", st.key, st.numel, ErrFormat)
	}
	return st.numel * int64(size), nil
}

// readEntry reads a zip entry that must hold exactly n bytes, and checks
// its CRC-32.
func readEntry(f *zip.File, n int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %w", f.Name, err, ErrFormat)
	}
	defer rc.Close()
	b, err := readBounded(rc, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name, err)
	}
	// archive/zip checks the CRC-32 when the entry's end is read.
	var extra [1]byte
	switch m, err := io.ReadFull(rc, extra[:]); {
	case m > 0:
		return nil, fmt.Errorf("%s: more than %d bytes: %w", f.Name, n, ErrFormat)
	case err != io.EOF:
		return nil, fmt.Errorf("%s: %w: %w", f.Name, err, ErrFormat)
	}
	return b, nil
}

// readBounded reads exactly n bytes from r, growing its buffer as data
// arrives, so that a length claimed beyond the end of r costs no more
// memory than the data actually there.
func readBounded(r io.Reader, n int64) ([]byte, error) {
	const chunk = 1 << 24
	if n < 0 {
		return nil, fmt.Errorf("negative length %d: %w", n, ErrFormat)
	}
	if n <= chunk {
		b := hugemem.Bytes(int(n))
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, fmt.Errorf("reading %d bytes: %w", n, noEOF(err))
		}
		return b, nil
	}
	var buf bytes.Buffer
	buf.Grow(chunk)
	m, err := io.CopyN(&buf, r, n)
	if m < n {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("reading %d bytes: %w", n, err)
	}
	return buf.Bytes(), nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

func readLegacy(r io.Reader, b *budget) (*nets.StateDict, error) {
	l := newLoader(b)
	obj, err := l.readLegacyObject(r)
	if err != nil {
		return nil, err
	}
	return l.stateDict(obj, nil)
}

// maxNesting bounds the legacy checkpoints nested in one another through
// torch.storage._load_from_bytes.
const maxNesting = 4

// readLegacyObject reads a legacy checkpoint, storages included, and
// returns the object it holds. A stream that is one plain pickle (a state
// dict pickled with pickle.dump, whose storages are nested legacy
// checkpoints) is read too.
func (l *loader) readLegacyObject(r io.Reader) (any, error) {
	br := bufio.NewReader(r)
	plain := &pickle.Options{Globals: pickle.Builtins()}
	magic, err := pickle.Load(br, l.options())
	if err != nil {
		return nil, fmt.Errorf("neither a zip archive nor a legacy pickle: %w%s", err, hint(err))
	}
	if m, ok := magic.(*big.Int); !ok || m.Cmp(legacyMagic) != 0 {
		if _, ok := magic.(*pickle.Dict); ok {
			return magic, nil // pickle.dump of a checkpoint dict
		}
		return nil, fmt.Errorf("pickle holds a %s, not PyTorch's magic number: %w", pickle.TypeName(magic), ErrFormat)
	}
	ver, err := pickle.Load(br, plain)
	if err != nil {
		return nil, fmt.Errorf("protocol version: %w", err)
	}
	if v, ok := pickle.Int(ver); !ok || v != legacyProtocol {
		return nil, fmt.Errorf("protocol version %s, want %d: %w", pickle.Repr(ver), legacyProtocol, ErrUnsupported)
	}
	info, err := pickle.Load(br, plain)
	if err != nil {
		return nil, fmt.Errorf("sys_info: %w", err)
	}
	if d, ok := info.(*pickle.Dict); ok {
		if le, ok := d.Lookup("little_endian"); ok && le == false {
			l.order = binary.BigEndian
		}
	}
	obj, err := pickle.Load(br, l.options())
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, hint(err))
	}
	keysv, err := pickle.Load(br, plain)
	if err != nil {
		return nil, fmt.Errorf("storage keys: %w", err)
	}
	kl, ok := keysv.(*pickle.List)
	if !ok {
		return nil, fmt.Errorf("storage keys are %s, not a list: %w", pickle.TypeName(keysv), ErrFormat)
	}
	for _, kv := range kl.Items {
		key, ok := pickle.String(kv)
		if !ok {
			return nil, fmt.Errorf("storage key is %s: %w", pickle.TypeName(kv), ErrFormat)
		}
		st, ok := l.storages[key]
		if !ok || st.root != nil {
			return nil, fmt.Errorf("storage key %s was not in the pickle: %w", key, ErrFormat)
		}
		if st.data != nil {
			return nil, fmt.Errorf("storage key %s listed twice: %w", key, ErrFormat)
		}
		var cnt [8]byte
		if _, err := io.ReadFull(br, cnt[:]); err != nil {
			return nil, fmt.Errorf("storage %s: size: %w", key, noEOF(err))
		}
		if n := int64(l.order.Uint64(cnt[:])); n != st.numel {
			return nil, fmt.Errorf("storage %s: file holds %d elements, pickle says %d: %w", key, n, st.numel, ErrFormat)
		}
		want, err := byteSize(st)
		if err != nil {
			return nil, err
		}
		b, err := readBounded(br, want)
		if err != nil {
			return nil, fmt.Errorf("storage %s: %w", key, err)
		}
		// The bytes were there to read, but a nested checkpoint (see
		// loadFromBytes) may be read many times over.
		if err := l.budget.take(want, "storage "+key); err != nil {
			return nil, err
		}
		st.data, st.order = b, l.order
	}
	return obj, nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// loadFromBytes implements torch.storage._load_from_bytes(b), with which
// plain pickle.dump stores a storage: b is a legacy checkpoint of the
// storage alone.
func (l *loader) loadFromBytes(args pickle.Tuple) (any, error) {
	if len(args) != 1 {
		return nil, fmt.Errorf("_load_from_bytes with %d arguments: %w", len(args), ErrFormat)
	}
	b, ok := args[0].(pickle.Bytes)
	if !ok {
		return nil, fmt.Errorf("_load_from_bytes(%s): %w", pickle.TypeName(args[0]), ErrFormat)
	}
	if l.depth >= maxNesting {
		return nil, fmt.Errorf("_load_from_bytes nested deeper than %d: %w", maxNesting, ErrFormat)
	}
	inner := newLoader(l.budget)
	inner.depth = l.depth + 1
	obj, err := inner.readLegacyObject(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("_load_from_bytes: %w", err)
	}
	st, ok := obj.(*storage)
	if !ok || st.root != nil || (st.data == nil && st.numel > 0) {
		return nil, fmt.Errorf("_load_from_bytes holds a %s, not a storage: %w", pickle.TypeName(obj), ErrFormat)
	}
	return st, nil
}

// stateDict finds the state dict in a decoded checkpoint and materialises
// its tensors, first calling load, if not nil, for each storage they use.
// Every view is checked, and its float32 bytes taken from the budget,
// before any storage is loaded or tensor allocated.
func (l *loader) stateDict(obj any, load func(*storage) error) (*nets.StateDict, error) {
	d, err := findStateDict(obj)
	if err != nil {
		return nil, err
	}
	if in := pickle.FindInert(d); in != nil {
		return nil, refuse(in) // only the entries beside the state dict may be unknown objects
	}
	type entry struct {
		name string
		ref  *tensorRef
		v    view
	}
	var entries []entry
	for k, v := range d.All() {
		ref, ok := v.(*tensorRef)
		if !ok {
			continue // _metadata, version counters, nested dicts
		}
		name, ok := pickle.String(k)
		if !ok {
			return nil, fmt.Errorf("state dict key of type %s: %w", pickle.TypeName(k), ErrFormat)
		}
		v, err := ref.view()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if err := l.budget.take(4*v.numel, fmt.Sprintf("%s, %d values as float32,", name, v.numel)); err != nil {
			return nil, err
		}
		entries = append(entries, entry{name, ref, v})
	}
	sd := &nets.StateDict{}
	for _, e := range entries {
		if root := e.v.root; load != nil && root.data == nil && root.numel > 0 {
			if err := load(root); err != nil {
				return nil, fmt.Errorf("%s: %w", e.name, err)
			}
		}
		t, err := e.ref.materialise(e.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		sd.Set(e.name, t)
	}
	return sd, nil
}

// budget bounds the bytes one checkpoint decodes to: its storages and its
// tensors as float32, together.
type budget struct {
	size  func() int64 // of the file, or of what was read of it so far
	slack int64        // decodeSlack; the fuzz test takes less
	used  int64
}

func newBudget(size, slack int64) *budget {
	return &budget{size: func() int64 { return size }, slack: slack}
}

// limit is min(MaxDecodedBytes, decodeRatio × size + slack).
func (b *budget) limit() int64 {
	if size := b.size(); size < (MaxDecodedBytes-b.slack)/decodeRatio {
		return decodeRatio*size + b.slack
	}
	return MaxDecodedBytes
}

// take reserves n bytes for what, or fails naming the sizes.
func (b *budget) take(n int64, what string) error {
	if limit := b.limit(); n > limit-b.used {
		return fmt.Errorf("%s needs %d bytes, with %d decoded before: over the limit of %d bytes for a %d-byte file (%d × its size + %d MiB, at most 16 GiB): %w",
			what, n, b.used, limit, b.size(), decodeRatio, b.slack>>20, ErrTooLarge)
	}
	b.used += n
	return nil
}

// findStateDict returns the first value of the dict obj under
// stateDictKeys that is a dict holding tensors, or else obj if it holds
// tensors itself: the keys first, for a training script's checkpoint
// keeps tensors beside its state dict (the ImageNet example's best_acc1).
func findStateDict(obj any) (*pickle.Dict, error) {
	d, ok := obj.(*pickle.Dict)
	if in, isInert := obj.(*pickle.Inert); isInert {
		return nil, refuse(in) // a pickled nn.Module, say
	}
	if !ok {
		return nil, fmt.Errorf("checkpoint holds a %s, not a dict: %w", pickle.TypeName(obj), ErrNoStateDict)
	}
	for _, k := range stateDictKeys {
		if v, ok := d.Lookup(k); ok {
			if sub, ok := v.(*pickle.Dict); ok && hasTensors(sub) {
				return sub, nil
			}
		}
	}
	if hasTensors(d) {
		return d, nil
	}
	name := func(k any) string {
		if s, ok := pickle.String(k); ok && len(s) <= 64 {
			return s
		}
		return pickle.Repr(k)
	}
	// The keys, the first 20 of them, and those that hold state dicts,
	// all of them: a dict's keys and values come in the same order.
	var keys, nested []string
	ks := d.Keys()
	for i, v := range d.Values() {
		switch {
		case i < 20:
			keys = append(keys, name(ks[i]))
		case i == 20:
			keys = append(keys, fmt.Sprintf("... (%d keys)", d.Len()))
		}
		if sub, ok := v.(*pickle.Dict); ok && hasTensors(sub) {
			nested = append(nested, name(ks[i]))
		}
	}
	if in := pickle.FindInert(d); in != nil {
		return nil, refuse(in) // the objects the allowlist does not know are likelier the cause
	}
	if len(nested) > 0 {
		holds := " holds a state dict"
		if len(nested) > 1 {
			holds = " hold state dicts"
		}
		return nil, fmt.Errorf("top-level keys [%s] hold no tensors, but %s%s, under a name landscape does not look for (it looks for %s): %w; "+
			"save the one to use alone, e.g. torch.save(ckpt[%q], 'model.pt')", strings.Join(keys, " "), strings.Join(nested, " and "), holds, strings.Join(stateDictKeys, ", "), ErrNoStateDict, nested[0])
	}
	return nil, fmt.Errorf("top-level keys [%s] hold no tensors: %w", strings.Join(keys, " "), ErrNoStateDict)
}

func hasTensors(d *pickle.Dict) bool {
	for _, v := range d.Values() {
		if _, ok := v.(*tensorRef); ok {
			return true
		}
	}
	return false
}

// refuse is the error for an object the allowlist does not know where a
// state dict's tensors were expected.
func refuse(in *pickle.Inert) error {
	err := in.Error()
	return fmt.Errorf("%w%s", err, hint(err))
}

// hint explains a refused global: a checkpoint of pickled Python objects
// rather than tensors.
func hint(err error) string {
	if errors.Is(err, pickle.ErrGlobal) {
		return " (only checkpoints of tensors can be read: save model.state_dict(), not the model)"
	}
	return ""
}
