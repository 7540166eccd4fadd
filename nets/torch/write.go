package torch

import (
	"archive/zip"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"

	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/nets"
)

// Write writes sd to path as torch.save writes a state dict in its zip
// format (PyTorch 1.6 and later), so that torch.load reads it back: an
// OrderedDict of tensors, each with a storage of its own, float32 or, for
// a tensor whose DType is "int64" (a num_batches_tracked), int64. The file
// is written atomically.
func Write(path string, sd *nets.StateDict) error {
	if err := atomicfile.Write(path, func(w io.Writer) error { return WriteTo(w, sd) }); err != nil {
		return fmt.Errorf("torch: write %s: %w", path, err)
	}
	return nil
}

// WriteTo writes sd to w in torch.save's zip format; see [Write].
func WriteTo(w io.Writer, sd *nets.StateDict) error {
	const archive = "archive/"
	z := zip.NewWriter(w)
	store := func(name string, b []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: archive + name, Method: zip.Store})
		if err == nil {
			_, err = f.Write(b)
		}
		return err
	}
	if err := store("data.pkl", statePickle(sd)); err != nil {
		return err
	}
	for i, name := range sd.Names() {
		t, _ := sd.Get(name)
		if n := nets.NumElements(t.Shape); n != len(t.Data) {
			return fmt.Errorf("torch: %s: shape %v holds %d elements, data has %d", name, t.Shape, n, len(t.Data))
		}
		var b []byte
		for _, v := range t.Data {
			b = t.AppendValue(b, v)
		}
		if err := store("data/"+strconv.Itoa(i), b); err != nil {
			return err
		}
	}
	if err := store("version", []byte("3\n")); err != nil {
		return err
	}
	return z.Close()
}

// statePickle is the protocol-2 pickle of sd as torch.save writes a state
// dict: OrderedDict([(name, torch._utils._rebuild_tensor_v2(storage, 0,
// size, stride, False, OrderedDict())), ...]), storage i being the
// persistent id ('storage', FloatStorage or LongStorage, 'i', 'cpu', numel).
func statePickle(sd *nets.StateDict) []byte {
	p := []byte{0x80, 2} // PROTO 2
	global := func(module, name string) { p = append(append(append(p, 'c'), module+"\n"...), name+"\n"...) }
	str := func(s string) {
		p = append(p, 'X')
		p = binary.LittleEndian.AppendUint32(p, uint32(len(s)))
		p = append(p, s...)
	}
	integer := func(v int) {
		p = append(p, 'J')
		p = binary.LittleEndian.AppendUint32(p, uint32(int32(v)))
	}
	tuple := func(vs []int) {
		if len(vs) == 0 {
			p = append(p, ')') // EMPTY_TUPLE
			return
		}
		p = append(p, '(')
		for _, v := range vs {
			integer(v)
		}
		p = append(p, 't')
	}
	orderedDict := func() { global("collections", "OrderedDict"); p = append(p, ')', 'R') }
	orderedDict()
	p = append(p, '(') // MARK: the items
	for i, name := range sd.Names() {
		t, _ := sd.Get(name)
		str(name)
		global("torch._utils", "_rebuild_tensor_v2")
		p = append(p, '(') // MARK: the arguments
		p = append(p, '(') // MARK: the persistent id
		str("storage")
		if t.DType == "int64" {
			global("torch", "LongStorage")
		} else {
			global("torch", "FloatStorage")
		}
		str(strconv.Itoa(i))
		str("cpu")
		integer(len(t.Data))
		p = append(p, 't', 'Q') // TUPLE, BINPERSID
		integer(0)              // storage offset
		tuple(t.Shape)
		stride := make([]int, len(t.Shape))
		for k, s := len(t.Shape)-1, 1; k >= 0; k-- {
			stride[k], s = s, s*t.Shape[k]
		}
		tuple(stride)
		p = append(p, 0x89) // NEWFALSE: requires_grad
		orderedDict()       // backward hooks
		p = append(p, 't', 'R')
	}
	return append(p, 'u', '.') // SETITEMS, STOP
}
