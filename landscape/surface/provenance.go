package surface

import "github.com/landscape-go/landscape/grid"

// Provenance records everything needed to reproduce or audit a surface. It
// is stored as JSON in the Parquet file's key-value metadata under
// [MetadataKey], and merge refuses shards whose provenance disagrees on
// anything but [Provenance.Shard] and [Provenance.WallSeconds].
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

	BatchSize   int     `json:"batch_size"`
	Backend     string  `json:"backend"` // "cpu" or "cuda"
	Device      string  `json:"device"`  // e.g. "2 threads, OpenBLAS" or a GPU name
	WallSeconds float64 `json:"wall_seconds"`
	// Progress says how many of the shard's points the file holds; a file
	// left by an interrupted run has Done < Total and is resumed by running
	// the same command again.
	Progress Progress `json:"progress"`
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
}

// FileInfo identifies an input file by path and content.
type FileInfo struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
}

// DirectionsInfo says how the directions were made and fingerprints their
// values, so shards and surfaces can be checked to share them.
type DirectionsInfo struct {
	Kind   string `json:"kind"`           // "random", "file" or "target"
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
}
