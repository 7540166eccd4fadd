package landscape

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/normalize"
)

// The files [Plane.Write] and [Trajectory.Write] put in their folder.
const (
	DirectionsFile = "directions.safetensors"
	PlaneFile      = "plane.json"
	TrajectoryFile = "trajectory.json"
	PathFile       = "path.csv"
)

// PlaneConfig describes the plane through three checkpoints A, B and C of
// one network: A is the origin, u = (B − A)/‖B − A‖ and v the unit part of
// C − A orthogonal to u (Gram–Schmidt).
type PlaneConfig struct {
	Model       string
	ModelConfig nets.Config
	Checkpoints [3]string
	// Mode weights moves the parameters only (batch-norm statistics stay
	// A's); states moves the statistics too, so that the surface passes
	// through B's and C's own losses.
	Mode normalize.Mode
	// Margin and Num shape the suggested grid: the range of the three
	// points widened by Margin of it on each side, Num points per axis.
	Margin float64
	Num    int
}

// Plane is the outcome of [NewPlane].
type Plane struct {
	*normalize.Plane
	Config     PlaneConfig
	Model      surface.ModelInfo
	Files      [3]surface.FileInfo
	Directions surface.DirectionsInfo
	// SuggestedX and SuggestedY cover A, B and C with the margin.
	SuggestedX, SuggestedY grid.Axis
	// AngleDegrees is the angle at A between B − A and C − A.
	AngleDegrees float64
}

// NewPlane reads and checks the three checkpoints and builds their plane.
func NewPlane(cfg PlaneConfig) (*Plane, error) {
	w, err := LoadWeights(cfg.Checkpoints[0], cfg.Model, cfg.ModelConfig)
	if err != nil {
		return nil, err
	}
	p := &Plane{Config: cfg, Model: modelInfo(w.Net)}
	p.Files[0] = w.File
	sds := [3]*nets.StateDict{w.State}
	for i := 1; i < 3; i++ {
		if sds[i], p.Files[i], err = loadWeightsOf(cfg.Checkpoints[i], w.Net); err != nil {
			return nil, err
		}
	}
	if p.Plane, err = normalize.NewPlane(w.Net, sds[0], sds[1], sds[2], cfg.Mode); err != nil {
		return nil, err
	}
	var xs, ys []float64
	for _, pt := range p.Points {
		xs, ys = append(xs, pt.X), append(ys, pt.Y)
	}
	p.SuggestedX, p.SuggestedY = AxesCovering(xs, ys, cfg.Margin, cfg.Num)
	p.AngleDegrees = math.Atan2(p.Points[2].Y, p.Points[2].X) * 180 / math.Pi
	p.Directions = surface.DirectionsInfo{Kind: "plane", Norm: "none", Ignore: "none", Mode: cfg.Mode.String(), SHA256: normalize.Hash(p.X, p.Y)}
	return p, nil
}

// Write writes the plane's direction file and its summary (plane.json)
// into dir, atomically; command is the surface command to suggest.
func (p *Plane) Write(dir, command string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dirs := filepath.Join(dir, DirectionsFile)
	meta := normalize.Meta{
		Kind: "plane", Model: p.Model.Name, Mode: p.Config.Mode.String(),
		Checkpoint: p.Files[0].Path, CheckpointSHA256: p.Files[0].SHA256, Checkpoints: p.Config.Checkpoints[:],
		SuggestedX: p.SuggestedX.String(), SuggestedY: p.SuggestedY.String(), SHA256: p.Directions.SHA256,
	}
	for _, pt := range p.Points {
		meta.Path = append(meta.Path, [2]float64{pt.X, pt.Y})
	}
	if err := normalize.WriteFile(dirs, p.X, p.Y, meta); err != nil {
		return err
	}
	info := p.Directions
	info.File = dirs
	sum := PlaneSummary{
		Tool: "landscape", Version: Version, Model: p.Model, Mode: p.Config.Mode.String(), Origin: p.Files[0].Path,
		Directions: info, AngleDegrees: p.AngleDegrees,
		Suggested: SuggestedGrid{X: p.SuggestedX, Y: p.SuggestedY, Margin: p.Config.Margin, Command: command},
	}
	for i, pt := range p.Points {
		sum.Points = append(sum.Points, PlaneSummaryPoint{string(rune('A' + i)), p.Files[i].Path, pt.X, pt.Y, pt.Residual})
	}
	return writeJSON(filepath.Join(dir, PlaneFile), sum)
}

// PlaneSummary is the content of plane.json.
type PlaneSummary struct {
	Tool         string                 `json:"tool"`
	Version      string                 `json:"version"`
	Model        surface.ModelInfo      `json:"model"`
	Mode         string                 `json:"mode"`
	Origin       string                 `json:"origin"`
	Directions   surface.DirectionsInfo `json:"directions"`
	Points       []PlaneSummaryPoint    `json:"points"`
	AngleDegrees float64                `json:"angle_degrees"` // at A, between B − A and C − A
	Suggested    SuggestedGrid          `json:"suggested_grid"`
}

// PlaneSummaryPoint is one of the three models A, B, C in a [PlaneSummary].
type PlaneSummaryPoint struct {
	Name       string  `json:"name"`
	Checkpoint string  `json:"checkpoint"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Residual   float64 `json:"residual"`
}

// SuggestedGrid is a grid that covers the models of a plane or trajectory
// with a margin, and the surface command that computes it.
type SuggestedGrid struct {
	X       grid.Axis `json:"x"`
	Y       grid.Axis `json:"y"`
	Margin  float64   `json:"margin"`
	Command string    `json:"command"`
}

// writeJSON writes v as indented JSON to path, atomically.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("landscape: %s: %w", path, err)
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

func modelInfo(net *nets.Net) surface.ModelInfo {
	c := net.Config
	return surface.ModelInfo{Name: net.Name, InChannels: c.InChannels, Height: c.Height, Width: c.Width, Classes: c.Classes, SHA256: net.SHA256}
}
