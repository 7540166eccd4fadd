package surface

import (
	"math"
	"strings"
	"testing"
)

func TestRangeSkipsNonFiniteValues(t *testing.T) {
	t.Parallel()
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name   string
		values []float64
		lo, hi float64
		bad    int
		allBad bool
	}{
		{"finite", []float64{2, -1, 3}, -1, 3, 0, false},
		{"some NaN and Inf", []float64{nan, 0.5, inf, -inf, 0.25}, 0.25, 0.5, 3, false},
		{"all NaN: no range, not 0 to 0", []float64{nan, nan}, 0, 0, 2, true},
	} {
		s := &Surface{Metrics: []string{"train_loss"}}
		for i, v := range tc.values {
			s.Points = append(s.Points, Point{Index: i, Values: []float64{v}})
		}
		lo, hi, bad := s.Range(0)
		if bad != tc.bad || tc.allBad != (math.IsNaN(lo) && math.IsNaN(hi)) || !tc.allBad && (lo != tc.lo || hi != tc.hi) {
			t.Errorf("%s: Range = %v, %v, %d non-finite; want %v, %v, %d", tc.name, lo, hi, bad, tc.lo, tc.hi, tc.bad)
		}
	}
}

// TestCompatibleArithmetic: a part resumes only with the arithmetic it
// began with (every point of a file computed alike), while parts of one
// surface merge across engines of one precision (nodes of a cluster with
// AVX2 or AVX-512) but not across precisions (FP32 and TF32).
func TestCompatibleArithmetic(t *testing.T) {
	t.Parallel()
	base := Provenance{Arithmetic: "cpu/avx512-winograd/fp32"}
	with := func(a string) Provenance { p := base; p.Arithmetic = a; return p }
	for _, tc := range []struct {
		other     string
		sameShard bool
		ok        bool
	}{
		{"cpu/avx512-winograd/fp32", true, true},
		{"cpu/avx2-direct/fp32", true, false},
		{"cpu/avx2-direct/fp32", false, true},
		{"cuda/heuristic/fp32", false, true},
		{"cuda/heuristic/tf32", false, false},
		{"cuda/heuristic/tf32", true, false},
		{"", true, true}, // files written before the arithmetic was recorded
	} {
		err := base.Compatible(with(tc.other), tc.sameShard)
		if (err == nil) != tc.ok {
			t.Errorf("%s against %s, same shard %v: %v, want compatible %v", base.Arithmetic, tc.other, tc.sameShard, err, tc.ok)
		}
	}
}

// TestCompatibleModelFile: parts of a model given by a file (an ONNX
// graph) resume and merge only with parts of that same file; a part
// written before the file's hash was recorded is judged by the rest.
func TestCompatibleModelFile(t *testing.T) {
	t.Parallel()
	a := Provenance{Model: ModelInfo{Name: "net.onnx", InChannels: 3, Height: 32, Width: 32, Classes: 10, SHA256: "aa"}}
	for _, tc := range []struct {
		sha string
		ok  bool
	}{{"aa", true}, {"bb", false}, {"", true}} {
		b := a
		b.Model.SHA256 = tc.sha
		for _, sameShard := range []bool{true, false} {
			err := a.Compatible(b, sameShard)
			if (err == nil) != tc.ok || err != nil && !strings.Contains(err.Error(), "model SHA-256 differs") {
				t.Errorf("model file %q against %q, same shard %v: %v, want compatible %v", a.Model.SHA256, tc.sha, sameShard, err, tc.ok)
			}
		}
	}
	b := a
	b.Model.Classes = 100
	if err := a.Compatible(b, false); err == nil || !strings.Contains(err.Error(), "model differs") {
		t.Errorf("10 classes against 100: %v", err)
	}
}

// TestCompatibleScalingAlone: data scaled to [0, 1] and not normalised is
// recorded as mean 0 and std 1, and was recorded as no mean and std
// before; the two are one computation (their values' hash compares them).
func TestCompatibleScalingAlone(t *testing.T) {
	t.Parallel()
	a := Provenance{Data: DataInfo{Name: "npz", Splits: []string{"train"}, Samples: []int{500}}}
	b := a
	b.Data.Mean, b.Data.Std = []float64{0}, []float64{1}
	if err := a.Compatible(b, true); err != nil {
		t.Errorf("none against mean 0, std 1: %v", err)
	}
	b.Data.Mean = []float64{0.5}
	if err := a.Compatible(b, true); err == nil {
		t.Error("none against mean 0.5, std 1: compatible")
	}
}

// TestCompatibleBatchSize: the batch size changes only the order of
// summation, so parts computed with different batches (GPUs with
// different free memory, say) merge, but a part resumes only with its
// own batch size.
func TestCompatibleBatchSize(t *testing.T) {
	t.Parallel()
	a := Provenance{BatchSize: 128, Arithmetic: "cpu/avx2-direct/fp32"}
	b := a
	b.BatchSize = 3392
	if err := a.Compatible(b, false); err != nil {
		t.Errorf("merge of batches 128 and 3392: %v", err)
	}
	if err := a.Compatible(b, true); err == nil || !strings.Contains(err.Error(), "batch size differs") {
		t.Errorf("resume with batch 3392 of a part begun with 128: %v", err)
	}
}
