package landscape

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/backend/cuda"
	"github.com/landscape-go/landscape/data"
	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
)

// Version is the tool version recorded in every output's provenance.
const Version = "0.2.0-dev"

// Spec says which surface to compute from files: everything that changes
// the numbers, and so everything [surface.Provenance.Compatible] compares.
// How the computation runs is in [Options]. Zero fields mean the
// documented defaults, which are the reference's recommended settings.
type Spec struct {
	// Model is a zoo name (see nets.Models) or an ONNX file (FILE.onnx,
	// see [IsONNX]); required.
	Model string
	// ModelConfig sets input channels, image size and classes; zero fields
	// are taken from the dataset, and the classes from the checkpoint's
	// classifier when the checkpoint has one. An ONNX model's own input
	// size and classes come first; ModelConfig fills only the dimensions
	// its export left dynamic.
	ModelConfig nets.Config
	// Checkpoint is the weights file θ; required for a zoo model. For an
	// ONNX model it defaults to the model file itself, whose parameters
	// are the weights; a checkpoint given replaces them, key by key.
	Checkpoint string

	// Data names the dataset; Splits lists the splits evaluated at every
	// point (nil means train, as the reference).
	Data        data.Spec
	Splits      []string
	DataOptions data.Options

	// Directions says how u and v are made.
	Directions Directions

	// Grid gives the axes; Grid.Y nil makes a 1D surface.
	Grid grid.Grid
	// Shard restricts the run to a share of the points; zero means all.
	Shard grid.Shard

	// BatchSize is the samples per forward pass on the CPU; 0 means 128.
	// It changes only the order of summation. A GPU chooses its own from
	// free memory.
	BatchSize int

	// GradNorm and Curvature, if set, add the gradient's norm and a
	// curvature map (computed on the CPU).
	GradNorm  *GradNorm
	Curvature *Curvature
}

// Directions says how the directions u and v are made: read from File if
// set; else, with Target set, x is Target − Checkpoint (interpolation)
// and y, on a 2D grid, random; else both random, drawn from Seed and
// normalised as Options say.
type Directions struct {
	File    string
	Target  string
	Seed    uint64
	Options normalize.Options
}

// Options say how a computation runs: where, what it reports and how it
// keeps its points. A nil *Options computes on the CPU, quietly, keeping
// nothing but the returned surface.
type Options struct {
	// Device is where the forward passes run.
	Device Device
	// Store, if set, keeps the run's points: a run resumes from the points
	// it holds (when they come from the same computation; see
	// [ErrOtherComputation]), saves the points done every SaveEvery (0
	// means 5 seconds) while it goes on, all of them when it is
	// interrupted, and the surface when it is done.
	Store     Store
	SaveEvery time.Duration
	// Overwrite ignores what Store holds instead of resuming it or
	// refusing another computation's points.
	Overwrite bool
	// Progress, if set, is called after each point with the number done
	// and the total, from one goroutine at a time.
	Progress func(done, total int)
	// Log, if set, receives one-line notes: what was loaded, the backend.
	Log io.Writer
	// Warn, if set, receives the warnings (a checkpoint near chance on the
	// data, a curvature estimate that did not converge) where Log does
	// not: a quiet batch job still says when its surface is likely
	// meaningless. Nil: warnings go to Log.
	Warn io.Writer
}

func (o *Options) logf(format string, a ...any) {
	if o.Log != nil {
		fmt.Fprintf(o.Log, format+"\n", a...)
	}
}

// warnf writes a warning to Warn, or where that is nil, to Log.
func (o *Options) warnf(format string, a ...any) {
	w := o.Warn
	if w == nil {
		w = o.Log
	}
	if w != nil {
		fmt.Fprintf(w, "warning: "+format+"\n", a...)
	}
}

// Store keeps the points of a surface while it is computed, so that a run
// that is killed or interrupted resumes where it was.
// export.ParquetStore keeps them in the output Parquet file.
type Store interface {
	// Load returns the surface saved earlier, nil if there is none.
	Load() (*surface.Surface, error)
	// Save replaces what is saved by s, atomically.
	Save(s *surface.Surface) error
	// String names the store in messages, e.g. its file.
	String() string
}

// Device says where forward passes run. Name is "cpu" (or empty); "cuda"
// or "cuda:N", a GPU, failing if it cannot be used; or "auto", the first
// GPU if one works, else the CPU. CPU and CUDA tune the backends; the
// ordinal of CUDA.Device is taken from Name.
type Device struct {
	Name string
	CPU  cpu.Options
	CUDA cuda.Options
}

// AllGPUs is the ordinal ParseDevice gives cuda:all: every GPU of the
// machine, the points dealt among them.
const AllGPUs = -1

// ParseDevice checks a device name: cpu, auto, cuda, cuda:N or cuda:all
// (ordinal AllGPUs).
func ParseDevice(s string) (kind string, ordinal int, err error) {
	switch {
	case s == "" || s == "cpu":
		return "cpu", 0, nil
	case s == "auto" || s == "cuda":
		return s, 0, nil
	case s == "cuda:all":
		return "cuda", AllGPUs, nil
	case strings.HasPrefix(s, "cuda:"):
		n, err := strconv.Atoi(s[len("cuda:"):])
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("landscape: device %q: want cuda:N with N a GPU's ordinal (0, 1, ...), or cuda:all", s)
		}
		return "cuda", n, nil
	}
	return "", 0, fmt.Errorf("landscape: unknown device %q: want auto, cpu, cuda, cuda:N or cuda:all", s)
}
