package nets

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
)

// StateDict is a set of named tensors that keeps the order in which names
// were first set, as PyTorch's state_dict (an OrderedDict) does. The order
// matters for output (inspect listings, direction files) and never for
// lookups.
//
// The zero value is an empty StateDict ready to use.
type StateDict struct {
	names   []string
	tensors map[string]*Tensor
}

// Set stores t under name, appending name to the order if it is new.
func (sd *StateDict) Set(name string, t *Tensor) {
	if sd.tensors == nil {
		sd.tensors = make(map[string]*Tensor)
	}
	if _, ok := sd.tensors[name]; !ok {
		sd.names = append(sd.names, name)
	}
	sd.tensors[name] = t
}

// Get returns the tensor stored under name.
func (sd *StateDict) Get(name string) (*Tensor, bool) {
	t, ok := sd.tensors[name]
	return t, ok
}

// Delete removes name, keeping the order of the others.
func (sd *StateDict) Delete(name string) {
	if _, ok := sd.tensors[name]; !ok {
		return
	}
	delete(sd.tensors, name)
	sd.names = slices.DeleteFunc(sd.names, func(s string) bool { return s == name })
}

// Names returns the tensor names in order. The slice must not be modified.
func (sd *StateDict) Names() []string { return sd.names }

// Len returns the number of tensors.
func (sd *StateDict) Len() int { return len(sd.names) }

// StripPrefix removes prefix from every name that has it, as needed for
// checkpoints saved from nn.DataParallel ("module.conv1.weight"). It reports
// whether any name changed.
func (sd *StateDict) StripPrefix(prefix string) bool {
	changed := false
	out := StateDict{}
	for _, n := range sd.names {
		m, ok := strings.CutPrefix(n, prefix)
		changed = changed || ok
		out.Set(m, sd.tensors[n])
	}
	*sd = out
	return changed
}

// NonFinite describes each tensor of sd that holds NaN or ±Inf, as
// "name (n of m values)", in order; it is empty when every value is finite.
// Weights and directions are checked with it before any point is
// computed: one NaN in them makes every loss NaN.
func (sd *StateDict) NonFinite() []string {
	var bad []string
	for _, name := range sd.names {
		t := sd.tensors[name]
		n := 0
		for _, v := range t.Data {
			if v-v != 0 { // NaN or ±Inf
				n++
			}
		}
		if n > 0 {
			bad = append(bad, fmt.Sprintf("%s (%d of %d values)", name, n, len(t.Data)))
		}
	}
	return bad
}

// WriteTable writes the tensors of sd for people, one line each in key
// order (KEY, DTYPE, SHAPE, ELEMENTS), and their total number of elements.
func (sd *StateDict) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "KEY\tDTYPE\tSHAPE\tELEMENTS\n")
	total := 0
	for _, name := range sd.Names() {
		t, _ := sd.Get(name)
		n := NumElements(t.Shape)
		total += n
		fmt.Fprintf(tw, "%s\t%s\t%v\t%d\n", name, t.DType, t.Shape, n)
	}
	fmt.Fprintf(tw, "\ntotal\t\t\t%d\n", total)
	return tw.Flush()
}
