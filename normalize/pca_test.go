package normalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
)

// tinyFixture is testdata/trajectory/tiny.json, written by
// scripts/fixtures/make_trajectory.py: eight checkpoints of a small
// network trained with SGD, and scikit-learn's PCA of them reproduced with
// numpy.
type tinyFixture struct {
	Checkpoints []string `json:"checkpoints"`
	Final       string   `json:"final"`
	Params      []struct {
		Key       string `json:"key"`
		Shape     []int  `json:"shape"`
		Parameter bool   `json:"parameter"`
	} `json:"params"`
	Cases []struct {
		Mode                   string                          `json:"mode"`
		Ignore                 string                          `json:"ignore"`
		Covered                []string                        `json:"covered"`
		ExplainedVariance      []float64                       `json:"explained_variance"`
		ExplainedVarianceRatio []float64                       `json:"explained_variance_ratio"`
		SingularValues         []float64                       `json:"singular_values"`
		Components             map[string]map[string][]float64 `json:"components"`
		X, Y, Residual         []float64
		Distance               []float64 `json:"distance"`
		Frozen                 []float64 `json:"frozen"`
	} `json:"cases"`
}

const trajectoryDir = "../testdata/trajectory"

func loadTiny(t *testing.T) (*tinyFixture, *nets.Net, []*nets.StateDict) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(trajectoryDir, "tiny.json"))
	if err != nil {
		t.Fatalf("%v (run scripts/fixtures/make_trajectory.py)", err)
	}
	var fx tinyFixture
	if err := json.Unmarshal(b, &fx); err != nil {
		t.Fatal(err)
	}
	net := &nets.Net{Name: "tiny"}
	for _, p := range fx.Params {
		kind := nets.Buffer
		if p.Parameter {
			kind = nets.Weight
		}
		net.Params = append(net.Params, nets.Param{Name: p.Key, Shape: p.Shape, Kind: kind})
	}
	var sds []*nets.StateDict
	for _, c := range fx.Checkpoints {
		sd, _, err := checkpoint.Load(filepath.Join(trajectoryDir, c))
		if err != nil {
			t.Fatal(err)
		}
		if err := net.Check(sd); err != nil {
			t.Fatal(err)
		}
		sds = append(sds, sd)
	}
	return &fx, net, sds
}

func relDiff(got, want float64) float64 {
	return math.Abs(got-want) / math.Max(math.Abs(want), 1e-300)
}

// TestPCAMatchesNumPy fits the PCA of the fixture trajectory in every mode
// and compares with the numpy reproduction of scikit-learn's PCA: variances
// to 1e-9 relative (the fixture asks for 1e-6; the Gram route in float64
// does far better), components to float32 rounding, projections to 1e-6 of
// the largest distance.
func TestPCAMatchesNumPy(t *testing.T) {
	t.Parallel()
	fx, net, sds := loadTiny(t)
	final := sds[len(sds)-1]
	for _, c := range fx.Cases {
		t.Run(c.Mode+"/"+c.Ignore, func(t *testing.T) {
			t.Parallel()
			var opts PCAOptions
			var err error
			if opts.Mode, err = ParseMode(c.Mode); err != nil {
				t.Fatal(err)
			}
			if opts.Ignore, err = ParseIgnore(c.Ignore); err != nil {
				t.Fatal(err)
			}
			p, err := NewPCA(net, final, &opts)
			if err != nil {
				t.Fatal(err)
			}
			for i, sd := range sds {
				if err := p.Add(sd, fx.Checkpoints[i]); err != nil {
					t.Fatal(err)
				}
			}
			res, err := p.Fit()
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for k := range 2 {
				for _, v := range []struct {
					name      string
					got, want float64
				}{
					{"explained variance", res.ExplainedVariance[k], c.ExplainedVariance[k]},
					{"explained variance ratio", res.ExplainedVarianceRatio[k], c.ExplainedVarianceRatio[k]},
					{"singular value", res.SingularValues[k], c.SingularValues[k]},
				} {
					d := relDiff(v.got, v.want)
					if !(d < 1e-9) {
						t.Errorf("PC%d %s %.12g, numpy %.12g (relative difference %.2g)", k+1, v.name, v.got, v.want, d)
					}
					worst = math.Max(worst, d)
				}
			}
			t.Logf("largest relative difference of the variances from numpy: %.2g", worst)
			if got := strings.Join(res.X.Names(), ","); got != strings.Join(c.Covered, ",") {
				t.Errorf("direction keys %s, want %s", got, strings.Join(c.Covered, ","))
			}
			for axis, sd := range map[string]*nets.StateDict{"x": res.X, "y": res.Y} {
				for key, want := range c.Components[axis] {
					got, ok := sd.Get(key)
					if !ok {
						t.Errorf("%s direction lacks %s", axis, key)
						continue
					}
					for i, w := range want {
						if math.Abs(float64(got.Data[i])-w) > 1e-7 {
							t.Errorf("%s.%s[%d] = %.9g, numpy %.9g", axis, key, i, got.Data[i], w)
							break
						}
					}
				}
			}
			scale := 0.0
			for _, d := range c.Distance {
				scale = math.Max(scale, d)
			}
			for i, pt := range res.Points {
				for _, v := range []struct {
					name      string
					got, want float64
				}{{"x", pt.X, c.X[i]}, {"y", pt.Y, c.Y[i]}, {"residual", pt.Residual, c.Residual[i]}, {"distance", pt.Distance, c.Distance[i]}, {"frozen", pt.Frozen, c.Frozen[i]}} {
					if math.Abs(v.got-v.want) > 1e-6*scale {
						t.Errorf("%s: %s %.9g, numpy %.9g", fx.Checkpoints[i], v.name, v.got, v.want)
					}
				}
			}
			last := res.Points[len(res.Points)-1]
			if last.X != 0 || last.Y != 0 || last.Residual != 0 {
				t.Errorf("final checkpoint projects to (%g, %g) with residual %g, want the origin", last.X, last.Y, last.Residual)
			}
		})
	}
}

// planeNet has one matrix and one bias; the trajectories of the analytic
// tests move the matrix only.
var planeNet = &nets.Net{Name: "plane", Params: []nets.Param{
	{Name: "w", Shape: []int{2, 4}, Kind: nets.Weight},
	{Name: "b", Shape: []int{4}, Kind: nets.Weight},
	{Name: "bn.num_batches_tracked", Shape: []int{}, Kind: nets.Buffer},
}}

// planeModel returns the model final + a·e1 + b·e2, with e1 = 0.5 on the
// first row of w and e2 = 0.5 on the second (orthonormal), all exact in
// float32. bias is added to every entry of b.
func planeModel(a, b, bias float64) *nets.StateDict {
	w := nets.NewTensor(2, 4)
	for i := range 4 {
		w.Data[i] = float32(1 + 0.5*a)
		w.Data[4+i] = float32(1 + 0.5*b)
	}
	bt := nets.NewTensor(4)
	for i := range bt.Data {
		bt.Data[i] = float32(bias)
	}
	sd := &nets.StateDict{}
	sd.Set("w", w)
	sd.Set("b", bt)
	sd.Set("bn.num_batches_tracked", &nets.Tensor{Data: []float32{float32(100 * (a + 10))}})
	return sd
}

// ExamplePCA fits a trajectory whose points lie on a known plane: the
// coordinates (a, b) along two orthonormal vectors e1, e2 have zero mean
// and are uncorrelated, so the components are ±e1 and ±e2 with variances
// Σa²/(n−1) and Σb²/(n−1), and the projections are ±a and ±b. The signs
// follow svd_flip: the largest |a| is at the first checkpoint (a = −3), so
// PC1 = −e1; the largest |b| is b = 2, so PC2 = +e2.
func ExamplePCA() {
	path := [][2]float64{{-3, 0}, {0, -1}, {1, 2}, {2, -1}, {0, 0}} // the last is the final model
	p, err := NewPCA(planeNet, planeModel(0, 0, 0), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for i, ab := range path {
		// Biases differ too, but are ignored (BiasBN).
		if err := p.Add(planeModel(ab[0], ab[1], float64(i)), fmt.Sprint("model_", i)); err != nil {
			fmt.Println(err)
			return
		}
	}
	res, err := p.Fit()
	if err != nil {
		fmt.Println(err)
		return
	}
	// Round away float64 noise (1e-16) for printing.
	r := func(v float64) float64 { return math.Round(v*1e6)/1e6 + 0 }
	fmt.Printf("explained variance %v %v, ratio %v %v\n", r(res.ExplainedVariance[0]), r(res.ExplainedVariance[1]),
		r(res.ExplainedVarianceRatio[0]), r(res.ExplainedVarianceRatio[1]))
	for _, d := range []struct {
		name string
		sd   *nets.StateDict
	}{{"pc1", res.X}, {"pc2", res.Y}} {
		w, _ := d.sd.Get("w")
		b, _ := d.sd.Get("b")
		fmt.Print(d.name, " w:")
		for _, v := range w.Data {
			fmt.Print(" ", r(float64(v)))
		}
		fmt.Println(", b:", b.Data)
	}
	for _, pt := range res.Points {
		fmt.Printf("(%v, %v) residual %v\n", r(pt.X), r(pt.Y), r(pt.Residual))
	}
	// Output:
	// explained variance 3.5 1.5, ratio 0.7 0.3
	// pc1 w: -0.5 -0.5 -0.5 -0.5 0 0 0 0, b: [0 0 0 0]
	// pc2 w: 0 0 0 0 0.5 0.5 0.5 0.5, b: [0 0 0 0]
	// (3, 0) residual 0
	// (0, -1) residual 0
	// (-1, 2) residual 0
	// (-2, -1) residual 0
	// (0, 0) residual 0
}

// TestPCAGramMatchesDenseSVD checks the blocked Gram route, over many
// blocks and all eight stripes, against a dense SVD of the centred matrix
// (gonum's, an independent route) on random rows with a decaying spectrum.
func TestPCAGramMatchesDenseSVD(t *testing.T) {
	t.Parallel()
	const n, rows, cols = 9, 57, 37 // 2109 columns: 9 blocks in 8 stripes
	const dim = rows * cols
	net := &nets.Net{Name: "wide", Params: []nets.Param{{Name: "w", Shape: []int{rows, cols}}}}
	rng := rand.New(rand.NewPCG(1, 2))
	final := &nets.StateDict{}
	ft := nets.NewTensor(rows, cols)
	for i := range ft.Data {
		ft.Data[i] = float32(rng.NormFloat64())
	}
	final.Set("w", ft)
	p, err := NewPCA(net, final, nil)
	if err != nil {
		t.Fatal(err)
	}
	dense := mat.NewDense(n, dim, nil)
	for i := range n {
		w := ft.Clone()
		for j := range w.Data {
			w.Data[j] += float32(rng.NormFloat64() * math.Pow(0.5, float64(j%5)) / float64(i+1))
		}
		sd := &nets.StateDict{}
		sd.Set("w", w)
		if err := p.Add(sd, "row"); err != nil {
			t.Fatal(err)
		}
		for j := range w.Data {
			dense.Set(i, j, float64(w.Data[j]-ft.Data[j]))
		}
	}
	res, err := p.Fit()
	if err != nil {
		t.Fatal(err)
	}
	for j := range dim {
		var m float64
		for i := range n {
			m += dense.At(i, j)
		}
		m /= n
		for i := range n {
			dense.Set(i, j, dense.At(i, j)-m)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(dense, mat.SVDThin) {
		t.Fatal("SVD failed")
	}
	s := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	var total float64
	for _, x := range s {
		total += x * x
	}
	for k := range 2 {
		if d := relDiff(res.SingularValues[k], s[k]); d > 1e-10 {
			t.Errorf("singular value %d: %.12g, dense SVD %.12g", k, res.SingularValues[k], s[k])
		}
		if d := relDiff(res.ExplainedVarianceRatio[k], s[k]*s[k]/total); d > 1e-10 {
			t.Errorf("ratio %d: %.12g, dense SVD %.12g", k, res.ExplainedVarianceRatio[k], s[k]*s[k]/total)
		}
		uk := mat.Col(nil, k, &u)
		sign := 1.0
		flipU(uk)
		if uk[0] != u.At(0, k) {
			sign = -1
		}
		pc, _ := []*nets.StateDict{res.X, res.Y}[k].Get("w")
		for j := range dim {
			if math.Abs(float64(pc.Data[j])-sign*v.At(j, k)) > 1e-7 {
				t.Errorf("component %d [%d] = %.9g, dense SVD %.9g", k, j, pc.Data[j], sign*v.At(j, k))
				break
			}
		}
	}
}

// PCA refuses fewer than three checkpoints, checkpoints that are equal or
// lie on a line, ones with NaN, missing or misshapen entries, and a net
// whose entries are all ignored.
func TestPCARefusesDegenerateAndBadCheckpoints(t *testing.T) {
	t.Parallel()
	nan := planeModel(1, 1, 0)
	w, _ := nan.Get("w")
	w.Data[3] = float32(math.NaN())
	missing := planeModel(1, 1, 0)
	missing.Delete("w")
	shape := planeModel(1, 1, 0)
	shape.Set("w", nets.NewTensor(3))
	for _, tc := range []struct {
		name   string
		models []*nets.StateDict
		want   string
		is     error
	}{
		{"too few", []*nets.StateDict{planeModel(1, 0, 0), planeModel(0, 0, 0)}, "at least 3", ErrDegenerate},
		{"equal", []*nets.StateDict{planeModel(0, 0, 0), planeModel(0, 0, 1), planeModel(0, 0, 2)}, "all 3 checkpoints are equal", ErrDegenerate},
		{"on a line", []*nets.StateDict{planeModel(2, 1, 0), planeModel(-2, -1, 0), planeModel(0, 0, 0)}, "lie on a line", ErrDegenerate},
		{"nan", []*nets.StateDict{nan}, "bad: w[3] is NaN", nil},
		{"missing", []*nets.StateDict{missing}, "bad has no w", nil},
		{"shape", []*nets.StateDict{shape}, "bad: w has shape [3], want [2 4]", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := NewPCA(planeNet, planeModel(0, 0, 0), nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.models {
				if err = p.Add(m, "bad"); err != nil {
					break
				}
			}
			if err == nil {
				_, err = p.Fit()
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	if _, err := NewPCA(&nets.Net{Name: "bn", Params: []nets.Param{{Name: "bn.weight", Shape: []int{4}}}}, &nets.StateDict{}, nil); err == nil ||
		!strings.Contains(err.Error(), "covers no entries") {
		t.Errorf("PCA over ignored entries only: error %v", err)
	}
}

// BenchmarkPCAFit fits 32 checkpoints of a million values (the size of a
// ResNet-56): the Gram matrix, its eigenvectors, the components and the
// projections.
func BenchmarkPCAFit(b *testing.B) {
	const n, dim = 32, 1 << 20
	net := &nets.Net{Name: "bench", Params: []nets.Param{{Name: "w", Shape: []int{1024, 1024}}}}
	rng := rand.New(rand.NewPCG(5, 6))
	final := &nets.StateDict{}
	final.Set("w", nets.NewTensor(1024, 1024))
	p, err := NewPCA(net, final, nil)
	if err != nil {
		b.Fatal(err)
	}
	for range n {
		w := nets.NewTensor(1024, 1024)
		for j := range w.Data {
			w.Data[j] = float32(rng.NormFloat64())
		}
		sd := &nets.StateDict{}
		sd.Set("w", w)
		if err := p.Add(sd, "row"); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if _, err := p.Fit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*dim)/b.Elapsed().Seconds()*float64(b.N), "values/s")
}
