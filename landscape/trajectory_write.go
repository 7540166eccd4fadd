package landscape

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/landscape-go/landscape/grid"
	"github.com/landscape-go/landscape/internal/atomicfile"
	"github.com/landscape-go/landscape/landscape/surface"
	"github.com/landscape-go/landscape/normalize"
)

// Suggest returns axes of num points each that cover the trajectory's
// path with a margin (see [AxesCovering]).
func (tr *Trajectory) Suggest(margin float64, num int) (x, y grid.Axis) {
	xs, ys := make([]float64, len(tr.Points)), make([]float64, len(tr.Points))
	for i, p := range tr.Points {
		xs[i], ys[i] = p.X, p.Y
	}
	return AxesCovering(xs, ys, margin, num)
}

// Write writes the trajectory into dir: its directions (directions.safetensors,
// with the PCA's statistics, the path and the suggested grid in the
// metadata), the path (path.csv, see [WritePathCSV]) and a summary
// (trajectory.json) holding sug, the suggested grid and surface command.
// Each file is written atomically.
func (tr *Trajectory) Write(dir string, sug SuggestedGrid) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	dirs := filepath.Join(dir, DirectionsFile)
	res := tr.PCA
	meta := normalize.Meta{
		Kind: tr.Directions.Kind, Model: tr.Model.Name, Checkpoint: tr.Final.Path, CheckpointSHA256: tr.Final.SHA256,
		Mode: tr.Options.Mode.String(), Ignore: tr.Options.Ignore.String(), SHA256: tr.Directions.SHA256,
		ExplainedVariance: res.ExplainedVariance[:], ExplainedVarianceRatio: res.ExplainedVarianceRatio[:], SingularValues: res.SingularValues[:],
		SuggestedX: sug.X.String(), SuggestedY: sug.Y.String(),
	}
	for _, p := range tr.Points {
		meta.Checkpoints = append(meta.Checkpoints, p.Checkpoint)
		meta.Path = append(meta.Path, [2]float64{p.X, p.Y})
	}
	if tr.Directions.Kind == "file" {
		meta.Kind = "pca" // the other run's components, centred here
	}
	if err := normalize.WriteFile(dirs, res.X, res.Y, meta); err != nil {
		return err
	}
	tr.Directions.File = dirs
	if err := atomicfile.Write(filepath.Join(dir, PathFile), tr.WritePathCSV); err != nil {
		return err
	}
	sum := TrajectorySummary{
		Tool: "landscape", Version: Version, Created: tr.Started.UTC().Format(time.RFC3339),
		Model: tr.Model, Final: tr.Final, Mode: tr.Options.Mode.String(), Ignore: tr.Options.Ignore.String(),
		Checkpoints: len(tr.Points), Values: tr.Values,
		ExplainedVariance: res.ExplainedVariance, ExplainedVarianceRatio: res.ExplainedVarianceRatio,
		SingularValues: res.SingularValues, TotalVariance: res.TotalVariance,
		SignConvention: "svd_flip(u_based_decision=True): along each component the checkpoint farthest from the mean has a positive centred coordinate (scikit-learn's PCA up to 1.4)",
		Directions:     tr.Directions, PathFile: PathFile, Data: tr.Data, Metrics: tr.Metrics,
		Suggested: sug, WallSeconds: tr.WallSeconds,
	}
	for _, p := range tr.Points {
		sum.Path = append(sum.Path, TrajectorySummaryPoint{p.Checkpoint, p.X, p.Y, p.Residual, p.Distance, p.Frozen})
	}
	return writeJSON(filepath.Join(dir, TrajectoryFile), sum)
}

// WritePathCSV writes the path as CSV, one row per checkpoint:
// checkpoint, x, y, residual, distance, frozen (see
// [normalize.Projection]) and, with data, each metric at the checkpoint
// and then each at its projected point (projected_train_loss, ...).
// "landscape plot --path" reads its x and y columns.
func (tr *Trajectory) WritePathCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	head := []string{"checkpoint", "x", "y", "residual", "distance", "frozen"}
	head = append(head, tr.Metrics...)
	for _, m := range tr.Metrics {
		head = append(head, "projected_"+m)
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	g := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, p := range tr.Points {
		row := []string{p.Checkpoint, g(p.X), g(p.Y), g(p.Residual), g(p.Distance), g(p.Frozen)}
		for _, v := range p.Values {
			row = append(row, g(v))
		}
		for _, v := range p.Projected {
			row = append(row, g(v))
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// TrajectorySummary is the content of trajectory.json.
type TrajectorySummary struct {
	Tool                   string                   `json:"tool"`
	Version                string                   `json:"version"`
	Created                string                   `json:"created"`
	Model                  surface.ModelInfo        `json:"model"`
	Final                  surface.FileInfo         `json:"final"`
	Mode                   string                   `json:"mode"`
	Ignore                 string                   `json:"ignore"`
	Checkpoints            int                      `json:"checkpoints"`
	Values                 int                      `json:"values"`
	ExplainedVariance      [2]float64               `json:"explained_variance"`
	ExplainedVarianceRatio [2]float64               `json:"explained_variance_ratio"`
	SingularValues         [2]float64               `json:"singular_values"`
	TotalVariance          float64                  `json:"total_variance"`
	SignConvention         string                   `json:"sign_convention"`
	Directions             surface.DirectionsInfo   `json:"directions"`
	PathFile               string                   `json:"path_file"`
	Data                   *surface.DataInfo        `json:"data,omitempty"`
	Metrics                []string                 `json:"metrics,omitempty"`
	Suggested              SuggestedGrid            `json:"suggested_grid"`
	WallSeconds            float64                  `json:"wall_seconds"`
	Path                   []TrajectorySummaryPoint `json:"path"`
}

// TrajectorySummaryPoint is one checkpoint in a [TrajectorySummary] (see
// [normalize.Projection] for the fields).
type TrajectorySummaryPoint struct {
	Checkpoint string  `json:"checkpoint"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Residual   float64 `json:"residual"`
	Distance   float64 `json:"distance"`
	Frozen     float64 `json:"frozen"`
}

// Report writes what the trajectory found, for people: the variance the
// plane explains (or the direction file projected on), the path's extent,
// how far the checkpoints are from the plane and how much of them the
// directions leave at the final model's values. Projected on a direction
// file, it names that file: call it before [Trajectory.Write], which
// points the directions at the copy it writes.
func (tr *Trajectory) Report(w io.Writer) {
	res := tr.PCA
	if tr.Directions.Kind == "file" {
		fmt.Fprintf(w, "%d checkpoints projected on the directions of %s over %d values (%s mode, ignore %s)\n",
			len(tr.Points), tr.Directions.File, tr.Values, tr.Options.Mode, tr.Options.Ignore)
	} else {
		fmt.Fprintf(w, "PCA of %d checkpoints over %d values (%s mode, ignore %s): PC1 %.2f%%, PC2 %.2f%% of the variance\n",
			len(tr.Points), tr.Values, tr.Options.Mode, tr.Options.Ignore, 100*res.ExplainedVarianceRatio[0], 100*res.ExplainedVarianceRatio[1])
	}
	var xs, ys []float64
	worst, frozen := 0, 0
	for i, p := range tr.Points {
		xs, ys = append(xs, p.X), append(ys, p.Y)
		if p.Residual > tr.Points[worst].Residual {
			worst = i
		}
		if p.Frozen > tr.Points[frozen].Frozen {
			frozen = i
		}
	}
	wp := tr.Points[worst]
	fmt.Fprintf(w, "path: x in [%.4g, %.4g], y in [%.4g, %.4g]; largest residual %.4g (%.1f%% of its distance %.4g) at %s\n",
		slices.Min(xs), slices.Max(xs), slices.Min(ys), slices.Max(ys), wp.Residual, 100*wp.Residual/math.Max(wp.Distance, 1e-300), wp.Distance, wp.Checkpoint)
	if fp := tr.Points[frozen]; fp.Frozen > 0 {
		fmt.Fprintf(w, "entries the directions leave at the final model's values (%s) differ by up to %.4g, at %s; the losses at projected points use the final model's\n",
			frozenWhat(tr.Options), fp.Frozen, fp.Checkpoint)
	}
}

// frozenWhat names the entries a PCA leaves at the final model's values.
func frozenWhat(o normalize.PCAOptions) string {
	switch {
	case o.Ignore == normalize.BiasBN:
		return "biases, batch-norm parameters and statistics"
	case o.Mode == normalize.Weights:
		return "batch-norm running statistics"
	}
	return "none"
}
