package main

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/nets"
	"github.com/landscape-go/landscape/nets/checkpoint"
	"github.com/landscape-go/landscape/normalize"
)

// The files the plane command writes into its --out folder.
const (
	planeDirections = "directions.safetensors"
	planeSummary    = "plane.json"
)

func cmdPlane(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var f surfaceFlags
	var t trajectoryFlags
	fs := newFlags("plane", "--model M --checkpoints A,B,C --out DIR [flags]", stderr)
	registerArchFlags(fs, &f)
	fs.StringVar(&t.checkpoints, "checkpoints", "", "the three checkpoints A,B,C; A is the origin, B − A the first axis")
	fs.StringVar(&f.mode, "mode", "weights", "weights (parameters only; BN statistics stay A's) or states (also BN running statistics, so the surface reproduces B and C)")
	fs.Float64Var(&t.margin, "margin", 0.2, "suggested grid: widen the range of the three points by this fraction of it on each side")
	fs.IntVar(&t.num, "num", 51, "suggested grid: points per axis")
	fs.StringVar(&f.out, "out", "", "output folder for "+planeDirections+" and "+planeSummary)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if f.model == "" || t.checkpoints == "" || f.out == "" {
		return usagef("--model, --checkpoints and --out are required")
	}
	var paths []string
	for _, p := range strings.Split(t.checkpoints, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) != 3 {
		return usagef("--checkpoints %q: want three files A,B,C", t.checkpoints)
	}
	if t.num < 1 || !(t.margin >= 0) {
		return usagef("--num %d --margin %g: want at least 1 point and a margin of 0 or more", t.num, t.margin)
	}
	mc, err := f.modelConfig()
	if err != nil {
		return err
	}
	mode, err := normalize.ParseMode(f.mode)
	if err != nil {
		return usageError{err}
	}
	return runPlane(f, mc, [3]string(paths), mode, t, stdout)
}

// planeJSON is the summary written to plane.json.
type planeJSON struct {
	Tool       string                   `json:"tool"`
	Version    string                   `json:"version"`
	Model      surface.ModelInfo      `json:"model"`
	Mode       string                   `json:"mode"`
	Origin     string                   `json:"origin"`
	Directions surface.DirectionsInfo `json:"directions"`
	Points     []planePointJSON         `json:"points"`
	// AngleDegrees is the angle at A between B − A and C − A.
	AngleDegrees float64       `json:"angle_degrees"`
	Suggested    suggestedGrid `json:"suggested_grid"`
}

type planePointJSON struct {
	Name       string  `json:"name"`
	Checkpoint string  `json:"checkpoint"`
	X          float64 `json:"x"`
	Y          float64 `json:"y"`
	Residual   float64 `json:"residual"`
}

// runPlane builds the plane through the three checkpoints and writes its
// direction file and summary.
func runPlane(f surfaceFlags, mc nets.Config, paths [3]string, mode normalize.Mode, t trajectoryFlags, stdout io.Writer) error {
	net, err := nets.New(f.model, mc)
	if err != nil {
		return err
	}
	var sds [3]*nets.StateDict
	for i, p := range paths {
		if sds[i], _, err = checkpoint.Load(p); err != nil {
			return err
		}
		if err := net.Check(sds[i]); err != nil {
			return fmt.Errorf("checkpoint %s: %w", p, err)
		}
	}
	pl, err := normalize.NewPlane(net, sds[0], sds[1], sds[2], mode)
	if err != nil {
		return err
	}
	var xs, ys []float64
	var pts []planePointJSON
	for i, p := range pl.Points {
		xs, ys = append(xs, p.X), append(ys, p.Y)
		pts = append(pts, planePointJSON{Name: string(rune('A' + i)), Checkpoint: paths[i], X: p.X, Y: p.Y, Residual: p.Residual})
	}
	ax, ay := landscape.AxesCovering(xs, ys, t.margin, t.num)
	if err := os.MkdirAll(f.out, 0o755); err != nil {
		return err
	}
	dirs := filepath.Join(f.out, planeDirections)
	hash := normalize.Hash(pl.X, pl.Y)
	meta := map[string]string{
		"kind": "plane", "model": f.model, "mode": mode.String(), "origin": paths[0],
		"checkpoints": jsonString(paths), "points": jsonString(pts),
		"suggested_x": ax.String(), "suggested_y": ay.String(), "sha256": hash,
	}
	if err := normalize.WriteFile(dirs, pl.X, pl.Y, meta); err != nil {
		return err
	}
	cmdline := surfaceCommand(f, paths[0], dirs, ax, ay)
	angle := math.Atan2(pl.Points[2].Y, pl.Points[2].X) * 180 / math.Pi
	sum := planeJSON{
		Tool: "landscape", Version: landscape.Version,
		Model: surface.ModelInfo{Name: net.Name, InChannels: net.Config.InChannels, Height: net.Config.Height, Width: net.Config.Width, Classes: net.Config.Classes},
		Mode:  mode.String(), Origin: paths[0],
		Directions:   surface.DirectionsInfo{Kind: "plane", File: dirs, Norm: "none", Ignore: "none", Mode: mode.String(), SHA256: hash},
		Points:       pts,
		AngleDegrees: angle,
		Suggested:    suggestedGrid{X: ax, Y: ay, Margin: t.margin, Command: cmdline},
	}
	js, err := json.MarshalIndent(sum, "", "  ")
	if err != nil {
		return err
	}
	if err := writeOutputFile(filepath.Join(f.out, planeSummary), append(js, '\n')); err != nil {
		return err
	}
	values := 0
	for _, k := range pl.X.Names() {
		v, _ := pl.X.Get(k)
		values += len(v.Data)
	}
	fmt.Fprintf(stdout, "wrote %s and %s to %s\n", planeDirections, planeSummary, f.out)
	fmt.Fprintf(stdout, "plane through %d values (%s mode), origin A; u = (B−A)/‖B−A‖, v = C−A orthonormalised; coordinates are distances in weight space:\n", values, mode)
	for _, p := range pts {
		fmt.Fprintf(stdout, "  %s (%.6g, %.6g)  %s\n", p.Name, p.X, p.Y, p.Checkpoint)
	}
	fmt.Fprintf(stdout, "  angle BAC %.2f°, ‖B−A‖ %.6g, ‖C−A‖ %.6g\n", angle, pts[1].X, math.Hypot(pts[2].X, pts[2].Y))
	if mode == normalize.Weights {
		fmt.Fprintln(stdout, "  weights mode: batch-norm statistics stay A's, so the losses at B and C are not their own (use --mode states)")
	}
	fmt.Fprintf(stdout, "surface over the three models:\n  %s\n", cmdline)
	return nil
}
