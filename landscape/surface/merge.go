package surface

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/clip"
)

// ErrIncompatible is wrapped by errors about surfaces or shards that were
// not computed the same way and so cannot be resumed or merged together.
var ErrIncompatible = errors.New("surfaces were computed differently")

// Compatible reports, naming the first field that differs, whether q
// describes the same computation as p: same model (and model file, where
// both record its hash: an ONNX graph's), checkpoint contents,
// direction values, data (and its content hash, where both record one)
// and grid. With sameShard the shard, the arithmetic and the batch size
// must match too (resuming a part: every point of a part is computed
// alike); without it the shards may differ and so may the arithmetic and
// the batch size, which change only the order of summation, but not the
// precision (merging parts computed on different nodes: FP32 engines and
// batches differ in the last bits only, FP32 and TF32 in the fourth
// digit). Tool version, device, times and progress may differ.
func (p Provenance) Compatible(q Provenance, sameShard bool) error {
	pd, qd := p.Directions, q.Directions
	fields := []Mismatch{
		// The grid first: a 2D rerun of a 1D command differs in its
		// directions too, but the grid is what the user changed.
		{"grid", p.Grid, q.Grid},
		{"model", modelKey(p.Model), modelKey(q.Model)},
		{"checkpoint SHA-256", p.Checkpoint.SHA256, q.Checkpoint.SHA256},
		// How the directions were made, before the hash of their values
		// that follows from it: the flag the user changed is named.
		{"directions", pd.Kind, qd.Kind},
		{"direction seed", pd.Seed, qd.Seed},
		{"direction normalisation", pd.Norm, qd.Norm},
		{"ignore", pd.Ignore, qd.Ignore},
		{"mode", pd.Mode, qd.Mode},
		{"directions SHA-256", pd.SHA256, qd.SHA256},
		{"data", dataKey(p.Data), dataKey(q.Data)},
		{"gradient norm", p.GradNorm, q.GradNorm},
		{"curvature", p.Curvature, q.Curvature},
	}
	if p.Model.SHA256 != "" && q.Model.SHA256 != "" {
		fields = append(fields, Mismatch{"model SHA-256", p.Model.SHA256, q.Model.SHA256})
	}
	if p.Data.SHA256 != "" && q.Data.SHA256 != "" {
		fields = append(fields, Mismatch{"data SHA-256", p.Data.SHA256, q.Data.SHA256})
	}
	if p.Arithmetic != "" && q.Arithmetic != "" {
		if sameShard {
			fields = append(fields, Mismatch{"arithmetic", p.Arithmetic, q.Arithmetic})
		} else {
			fields = append(fields, Mismatch{"precision", precision(p.Arithmetic), precision(q.Arithmetic)})
		}
	}
	if sameShard {
		fields = append(fields, Mismatch{"batch size", p.BatchSize, q.BatchSize}, Mismatch{"shard", p.Shard, q.Shard})
	} else {
		fields = append(fields, Mismatch{"shard count", p.Shard.Count, q.Shard.Count})
	}
	if m := FirstMismatch(fields); m != nil {
		return m
	}
	return nil
}

// Mismatch is the first difference [Provenance.Compatible] finds: what
// differs, and its values in p and in q. It wraps [ErrIncompatible].
type Mismatch struct {
	What string
	P, Q any
}

func (m *Mismatch) Error() string {
	return fmt.Sprintf("surface: %v: %s differs: %s vs %s", ErrIncompatible, m.What, show(m.P), show(m.Q))
}

func (m *Mismatch) Unwrap() error { return ErrIncompatible }

// FirstMismatch returns the first of fields, each a name and two values
// that must agree, whose values differ (by reflect.DeepEqual), nil where
// they all agree.
func FirstMismatch(fields []Mismatch) *Mismatch {
	for i := range fields {
		if !reflect.DeepEqual(fields[i].P, fields[i].Q) {
			return &fields[i]
		}
	}
	return nil
}

// Between says what differs with where each value comes from: "direction
// seed differs: 7 in a.parquet, 8 in this run".
func (m *Mismatch) Between(p, q string) string {
	return fmt.Sprintf("%s differs: %s in %s, %s in %s", m.What, show(m.P), p, show(m.Q), q)
}

// show formats a provenance value for an error message: "none" for an
// absent one, the hash's first 12 digits, a struct's fields by name.
func show(v any) string {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return "none"
		}
		v = rv.Elem().Interface()
	}
	switch v := v.(type) {
	case fmt.Stringer:
		return v.String()
	case string:
		if len(v) == 64 && strings.Trim(v, "0123456789abcdef") == "" {
			return v[:12] + "…"
		}
		return fmt.Sprintf("%q", v)
	case int, uint64:
		return fmt.Sprint(v)
	}
	return fmt.Sprintf("%+v", v)
}

// pointName names point i of g for a message: its index, and in 2D its
// column and row, (i, j), as the CSV export numbers them.
func pointName(g grid.Grid, i int) string {
	if g.Y == nil {
		return fmt.Sprint(i)
	}
	return fmt.Sprintf("%d (i=%d, j=%d)", i, i%g.X.Num, i/g.X.Num)
}

// precision is the part of an arithmetic name after the last "/": fp32,
// tf32, ...
func precision(arithmetic string) string {
	return arithmetic[strings.LastIndex(arithmetic, "/")+1:]
}

// modelKey is what must agree about the model besides its file's hash,
// which only surfaces written since it was recorded have.
func modelKey(m ModelInfo) ModelInfo {
	m.SHA256 = ""
	return m
}

// dataKey is what must agree about the data: not the path, which differs
// between machines of a cluster.
func dataKey(d DataInfo) string {
	seed := "first"
	if d.SampleSeed != nil {
		seed = fmt.Sprint(*d.SampleSeed)
	}
	mean, std := d.Mean, d.Std
	if ScaledOnly(mean, std) {
		// No normalisation: earlier versions recorded ToTensor's scaling
		// alone as no mean and std, this one as mean 0 and std 1; the
		// data's hash tells the values apart.
		mean, std = nil, nil
	}
	return fmt.Sprintf("%s %v %v %s mean=%v std=%v", d.Name, d.Splits, d.Samples, seed, mean, std)
}

// ScaledOnly reports whether a normalisation's mean and std is ToTensor's
// scaling to [0, 1] and no more: every mean 0 and every std 1, or none.
func ScaledOnly(mean, std []float64) bool {
	return !slices.ContainsFunc(mean, func(m float64) bool { return m != 0 }) &&
		!slices.ContainsFunc(std, func(s float64) bool { return s != 1 })
}

// PartError is an error about one of the parts given to [Merge]: Part is
// its index among them.
type PartError struct {
	Part  int
	Shard grid.Shard
	Err   error
}

func (e *PartError) Error() string {
	return fmt.Sprintf("surface: merge: part %d (shard %s): %v", e.Part, e.Shard, e.Err)
}

func (e *PartError) Unwrap() error { return e.Err }

// Merge joins the shards of one surface. They must be compatible (see
// [Provenance.Compatible]) and hold every grid point exactly once; the
// error names missing and duplicated points and shards, and an error about
// one part is a [*PartError]. The result's values are those of the parts,
// bit for bit, so it equals a single-process run where the parts were
// computed with the same arithmetic and batch size. Its provenance is the
// first part's with the shard set to 0/1, the earliest start time and the
// summed wall time; where the parts' batch sizes differ, its batch size is
// 0, and where their arithmetic differs (engines of one precision), it
// lists each, joined by " + ".
func Merge(parts []*Surface) (*Surface, error) {
	if len(parts) == 0 {
		return nil, errors.New("surface: merge: no parts")
	}
	first := parts[0]
	out := &Surface{Metrics: slices.Clone(first.Metrics), Provenance: first.Provenance}
	out.Provenance.Shard = grid.Whole()
	out.Provenance.WallSeconds = 0
	owner := map[int]int{}
	var dups []string
	shards := map[int]bool{}
	arithmetic := []string{first.Provenance.Arithmetic}
	for k, p := range parts {
		partErr := func(err error) error { return &PartError{Part: k, Shard: p.Provenance.Shard, Err: err} }
		if err := first.Provenance.Compatible(p.Provenance, false); err != nil {
			return nil, partErr(err)
		}
		if !slices.Equal(p.Metrics, first.Metrics) {
			return nil, partErr(fmt.Errorf("it has metrics %v, part 0 %v", p.Metrics, first.Metrics))
		}
		if shards[p.Provenance.Shard.Index] {
			return nil, partErr(fmt.Errorf("shard %s given twice", p.Provenance.Shard))
		}
		shards[p.Provenance.Shard.Index] = true
		if p.Provenance.BatchSize != out.Provenance.BatchSize {
			out.Provenance.BatchSize = 0
		}
		if a := p.Provenance.Arithmetic; a != "" && !slices.Contains(arithmetic, a) {
			arithmetic = append(arithmetic, a)
		}
		out.Provenance.WallSeconds += p.Provenance.WallSeconds
		if p.Provenance.Created < out.Provenance.Created {
			out.Provenance.Created = p.Provenance.Created
		}
		for _, pt := range p.Points {
			if j, ok := owner[pt.Index]; ok {
				dups = append(dups, fmt.Sprintf("%d (parts %d and %d)", pt.Index, j, k))
				continue
			}
			owner[pt.Index] = k
			out.Points = append(out.Points, pt)
		}
	}
	if len(dups) > 0 {
		return nil, fmt.Errorf("surface: merge: points computed twice: %s", clip.Join(dups))
	}
	out.Provenance.Arithmetic = strings.Join(arithmetic, " + ")
	g := first.Provenance.Grid
	total := g.Len()
	if len(out.Points) != total {
		var missing []string
		var missingShards []string
		count := first.Provenance.Shard.Count
		for s := range count {
			if !shards[s] {
				missingShards = append(missingShards, fmt.Sprint(s))
			}
		}
		for i := range total {
			if _, ok := owner[i]; !ok {
				missing = append(missing, pointName(g, i))
			}
		}
		msg := fmt.Sprintf("surface: merge: %d of %d points missing: %s", len(missing), total, clip.Join(missing))
		if len(missingShards) > 0 {
			msg += fmt.Sprintf(" (no part for shard %s of %d)", clip.Join(missingShards), count)
		}
		return nil, errors.New(msg)
	}
	slices.SortFunc(out.Points, func(a, b Point) int { return a.Index - b.Index })
	out.Provenance.Progress = Progress{Done: total, Total: total}
	return out, nil
}
