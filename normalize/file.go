package normalize

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/internal/filekind"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/safetensors"
)

// A direction file is a safetensors file whose tensors are named
// "x.<state-dict key>" and "y.<state-dict key>", float32, shaped like the
// weights. It holds final directions: nothing is normalised when it is
// read. A key absent from the file is a zero direction.

// ErrNonFinite is wrapped by the error for a direction file holding NaN
// or Inf: every point off the centre would be NaN.
var ErrNonFinite = errors.New("directions are not finite")

// WriteFile writes directions x and (if not nil) y to path, atomically,
// with meta stored as the file's __metadata__.
func WriteFile(path string, x, y *nets.StateDict, meta Meta) error {
	out := &nets.StateDict{}
	for _, d := range []struct {
		axis string
		sd   *nets.StateDict
	}{{"x", x}, {"y", y}} {
		if d.sd == nil {
			continue
		}
		for _, name := range d.sd.Names() {
			t, _ := d.sd.Get(name)
			out.Set(d.axis+"."+name, t)
		}
	}
	return safetensors.Write(path, out, meta.Map())
}

// File is a direction file's contents: the directions and the recipe
// stored beside them.
type File struct {
	X, Y *nets.StateDict
	Meta Meta
}

// ReadFile reads a direction file for net. y is nil when the file holds
// no y tensors. Every key must name an entry of net with the same shape.
func ReadFile(path string, net *nets.Net) (x, y *nets.StateDict, err error) {
	f, err := Load(path, net)
	return f.X, f.Y, err
}

// Load reads a direction file for net, with its metadata.
func Load(path string, net *nets.Net) (File, error) {
	u, err := Read(path)
	if err != nil {
		return File{}, err
	}
	return u.Fit(net)
}

// Unfitted is a direction file read, its values checked, but not yet
// held to a model: it can be read while the model loads.
type Unfitted struct {
	path      string
	sd        *nets.StateDict
	nonFinite []string // keys holding NaN or Inf
	Meta      Meta
}

// Read reads the direction file at path, for [Unfitted.Fit] to hold to a
// model.
func Read(path string) (*Unfitted, error) {
	sd, kv, err := readSafetensors(path)
	if err != nil {
		return nil, err
	}
	names := sd.Names()
	if len(names) > 0 && !slices.ContainsFunc(names, func(k string) bool { return strings.HasPrefix(k, "x.") || strings.HasPrefix(k, "y.") }) {
		shown := strings.Join(names[:min(len(names), 3)], ", ")
		if len(names) > 3 {
			shown += ", ..."
		}
		return nil, fmt.Errorf("normalize: direction file %s looks like a checkpoint, not directions: its %d tensors are named as a state dict's (%s), not x.<key> and y.<key> (direction files are written by 'landscape directions', 'plane' and 'trajectory')",
			path, len(names), shown)
	}
	meta, err := ParseMeta(kv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &Unfitted{path: path, sd: sd, nonFinite: sd.NonFinite(), Meta: meta}, nil
}

// readSafetensors reads the direction file at path as a safetensors file;
// one that is not (a trajectory's path.csv, a surface, a PyTorch
// checkpoint) is named for what it is.
func readSafetensors(path string) (*nets.StateDict, map[string]string, error) {
	sd, kv, err := safetensors.Read(path)
	if err != nil {
		if k := filekind.Of(path); k != filekind.SafeTensors && k != filekind.Unknown {
			return nil, nil, fmt.Errorf("normalize: direction file %s is %s, not a direction file (a safetensors file of x.<key> and y.<key> tensors, as 'landscape directions' writes)", path, k)
		}
		return nil, nil, err
	}
	return sd, kv, nil
}

// Fit returns the directions for net. Every key must name an entry of
// net with the same shape, and every value be finite.
func (u *Unfitted) Fit(net *nets.Net) (File, error) {
	x, y, err := split(u.path, u.sd, net, u.nonFinite)
	return File{X: x, Y: y, Meta: u.Meta}, err
}

func split(path string, sd *nets.StateDict, net *nets.Net, nonFinite []string) (x, y *nets.StateDict, err error) {
	x, y = &nets.StateDict{}, &nets.StateDict{}
	var bad []string
	for _, key := range sd.Names() {
		t, _ := sd.Get(key)
		axis, name, ok := strings.Cut(key, ".")
		p, known := net.Param(name)
		switch {
		case !ok || (axis != "x" && axis != "y"):
			bad = append(bad, fmt.Sprintf("%s: not x.<key> or y.<key>", key))
		case !known:
			bad = append(bad, fmt.Sprintf("%s: model %s has no %s", key, net.Name, name))
		case nets.NumElements(p.Shape) != len(t.Data) || len(p.Shape) != len(t.Shape):
			bad = append(bad, fmt.Sprintf("%s: shape %v, model %s wants %v", key, t.Shape, net.Name, p.Shape))
		case axis == "x":
			x.Set(name, t)
		default:
			y.Set(name, t)
		}
	}
	if len(bad) > 0 {
		return nil, nil, fmt.Errorf("normalize: direction file %s does not fit model %s:\n  %s", path, net.Name, strings.Join(bad, "\n  "))
	}
	if len(nonFinite) > 0 {
		return nil, nil, fmt.Errorf("normalize: direction file %s: %w: NaN or Inf in %s", path, ErrNonFinite, strings.Join(nonFinite, ", "))
	}
	if x.Len() == 0 {
		return nil, nil, fmt.Errorf("normalize: direction file %s has no x.<key> tensors", path)
	}
	if y.Len() == 0 {
		y = nil
	}
	return x, y, nil
}

// ReadMeta reads only the recipe of the direction file at path, for any
// model.
func ReadMeta(path string) (Meta, error) {
	_, kv, err := readSafetensors(path)
	if err != nil {
		return Meta{}, err
	}
	m, err := ParseMeta(kv)
	if err != nil {
		return m, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}
