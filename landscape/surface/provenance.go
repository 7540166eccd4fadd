package surface

import (
	"fmt"

	"github.com/landscape-go/landscape/grid"
)

// Provenance records everything needed to reproduce or audit a surface. It
// is stored as JSON in the Parquet file's key-value metadata under
// [MetadataKey]. Resume and [Merge] accept only surfaces whose provenance
// is [Provenance.Compatible]: the same computation, whatever tool version,
// backend and device computed it, and when.
type Provenance struct {
	Tool    string `json:"tool"`    // always "landscape"
	Version string `json:"version"` // tool version
	Created string `json:"created"` // RFC 3339 UTC time the run started

	Model      ModelInfo      `json:"model"`
	Checkpoint FileInfo       `json:"checkpoint"`
	Directions DirectionsInfo `json:"directions"`
	Data       DataInfo       `json:"data"`
	Grid       grid.Grid      `json:"grid"`
	Shard      grid.Shard     `json:"shard"`

	BatchSize int    `json:"batch_size"`
	Backend   string `json:"backend"` // "cpu" or "cuda"
	Device    string `json:"device"`  // e.g. "2 threads, OpenBLAS" or a GPU name
	// Arithmetic names how the backend computes (see
	// backend.Evaluator.Arithmetic): the numbers of two runs with the same
	// arithmetic agree to the bit. A run resumes only with the arithmetic
	// it began with; shards computed with different ones merge when their
	// precision is the same.
	Arithmetic string `json:"arithmetic,omitempty"`
	// GradNorm and Curvature, if set, say how the gradient-norm and the
	// curvature columns were computed (see [Provenance.Metrics]).
	GradNorm    *GradNormInfo  `json:"grad_norm,omitempty"`
	Curvature   *CurvatureInfo `json:"curvature,omitempty"`
	WallSeconds float64        `json:"wall_seconds"`
	// Progress says how many of the shard's points the file holds; a file
	// left by an interrupted run has Done < Total and is resumed by running
	// the same command again.
	Progress Progress `json:"progress"`
}

// CurvatureInfo says how a surface's curvature columns were computed: the
// extreme eigenvalues of the Hessian of the mean loss over the data of
// Split with respect to the parameters Params names, by Lanczos from a
// start vector seeded with Seed, to relative residual Tol.
type CurvatureInfo struct {
	Split  string  `json:"split"`
	Params string  `json:"params"`
	Tol    float64 `json:"tol"`
	Seed   uint64  `json:"seed"`
}

func (c CurvatureInfo) String() string {
	return fmt.Sprintf("split %s, parameters %s, tolerance %g, seed %d", c.Split, c.Params, c.Tol, c.Seed)
}

// GradNormInfo says how a surface's gradient-norm column was computed:
// the norm of the gradient of the mean loss over the data of Split with
// respect to the parameters Params names.
type GradNormInfo struct {
	Split  string `json:"split"`
	Params string `json:"params"`
}

func (g GradNormInfo) String() string {
	return fmt.Sprintf("split %s, parameters %s", g.Split, g.Params)
}

// Metrics returns the metric columns of a surface made as p says: the
// loss and accuracy of every split, then <split>_grad_norm and the
// curvature columns if they were asked for.
func (p Provenance) Metrics() []string {
	m := Metrics(p.Data.Splits)
	if p.GradNorm != nil {
		m = append(m, p.GradNorm.Split+"_grad_norm")
	}
	if p.Curvature != nil {
		m = append(m, CurvatureMetrics(p.Curvature.Split)...)
	}
	return m
}

// CurvatureMetrics returns the curvature columns for split:
// <split>_lambda_max and <split>_lambda_min, the largest and smallest
// eigenvalues of the Hessian, and <split>_lambda_ratio, |λmin/λmax|, the
// measure of non-convexity Li et al. (2018) map in their Fig. 7.
func CurvatureMetrics(split string) []string {
	return []string{split + "_lambda_max", split + "_lambda_min", split + "_lambda_ratio"}
}

// Progress counts the points of a shard that are computed.
type Progress struct {
	Done  int `json:"done"`
	Total int `json:"total"`
}

// Complete reports whether every point of the shard is present.
func (p Progress) Complete() bool { return p.Done == p.Total }

// MetadataKey is the Parquet key-value metadata key holding the provenance JSON.
const MetadataKey = "landscape.provenance"

// ModelInfo names the architecture and the settings it was built with.
type ModelInfo struct {
	Name       string `json:"name"`
	InChannels int    `json:"in_channels"`
	Height     int    `json:"height"`
	Width      int    `json:"width"`
	Classes    int    `json:"classes"`
	// SHA256 is the SHA-256 of the model's file (an ONNX graph), empty
	// for the zoo's architectures.
	SHA256 string `json:"sha256,omitempty"`
}

func (m ModelInfo) String() string {
	return fmt.Sprintf("%s on %dx%dx%d inputs, %d classes", m.Name, m.InChannels, m.Height, m.Width, m.Classes)
}

// FileInfo identifies an input file by path and content.
type FileInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// DirectionsInfo says how the directions were made and fingerprints their
// values, so shards and surfaces can be checked to share them.
type DirectionsInfo struct {
	// Kind is "random" (drawn from Seed), "file" (read from File),
	// "target" (File − checkpoint), "pca" (a trajectory's components),
	// "plane" (through three checkpoints) or "memory" (given in memory).
	Kind   string `json:"kind"`
	File   string `json:"file,omitempty"` // direction or target checkpoint file, if any
	Seed   uint64 `json:"seed"`
	Norm   string `json:"norm"`   // filter, layer, weight, dfilter, dlayer or none
	Ignore string `json:"ignore"` // biasbn or none
	Mode   string `json:"mode"`   // weights or states
	// SHA256 is the hash of the direction values (see normalize.Hash).
	SHA256 string `json:"sha256"`
}

// DataInfo describes the evaluated data.
type DataInfo struct {
	Name       string    `json:"name"` // cifar10, cifar100, mnist, fashion-mnist, npz
	Path       string    `json:"path"`
	Splits     []string  `json:"splits"`
	Samples    []int     `json:"samples"`     // samples evaluated, per split
	SampleSeed *uint64   `json:"sample_seed"` // nil: the first N in file order
	Mean       []float64 `json:"mean"`
	Std        []float64 `json:"std"`
	// SHA256 hashes the values evaluated, every split's normalised images
	// and labels in order, so that a resume or a merge never mixes data
	// that differ in content under the same name (files written before it
	// was recorded have none).
	SHA256 string `json:"sha256,omitempty"`
}
