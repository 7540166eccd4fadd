package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/landscape-go/landscape/landscape"
	"github.com/landscape-go/landscape/normalize"
)

func cmdPlane(_ context.Context, args []string, stdout, stderr io.Writer) error {
	var model modelFlags
	var dirs directionFlags
	var sug suggestFlags
	fs := newFlags("plane", "--model M --checkpoints A,B,C --out DIR [flags]", stderr)
	model.register(fs)
	checkpoints := fs.String("checkpoints", "", "the three checkpoints A,B,C; A is the origin, B − A the first axis")
	dirs.registerMode(fs, "weights")
	sug.register(fs, "the three points")
	out := fs.String("out", "", "output folder for "+landscape.DirectionsFile+" and "+landscape.PlaneFile)
	if err := parse(fs, args, 0); err != nil {
		return err
	}
	if model.model == "" || *checkpoints == "" || *out == "" {
		return usagef("--model, --checkpoints and --out are required")
	}
	var paths []string
	for _, p := range strings.Split(*checkpoints, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) != 3 {
		return usagef("--checkpoints %q: want three files A,B,C", *checkpoints)
	}
	cfg := landscape.PlaneConfig{Model: model.model, Checkpoints: [3]string(paths), Margin: sug.margin, Num: sug.num}
	var err error
	if err = sug.check(); err != nil {
		return err
	}
	if cfg.ModelConfig, err = model.config(); err != nil {
		return err
	}
	if cfg.Mode, err = normalize.ParseMode(dirs.mode); err != nil {
		return usageError{err}
	}
	pl, err := landscape.NewPlane(cfg)
	if err != nil {
		return err
	}
	cmdline := surfaceCommand(model, paths[0], (&dataFlags{}).args(), *out, pl.SuggestedX, pl.SuggestedY)
	if err := pl.Write(*out, cmdline); err != nil {
		return err
	}
	values := 0
	for _, k := range pl.X.Names() {
		v, _ := pl.X.Get(k)
		values += len(v.Data)
	}
	fmt.Fprintf(stdout, "wrote %s and %s to %s\n", landscape.DirectionsFile, landscape.PlaneFile, *out)
	fmt.Fprintf(stdout, "plane through %d values (%s mode), origin A; u = (B−A)/‖B−A‖, v = C−A orthonormalised; coordinates are distances in weight space:\n", values, cfg.Mode)
	for i, p := range pl.Points {
		x, y := planeCoordinates(p)
		fmt.Fprintf(stdout, "  %c (%.6g, %.6g)  %s\n", 'A'+i, x, y, paths[i])
	}
	fmt.Fprintf(stdout, "  angle BAC %.2f°, ‖B−A‖ %.6g, ‖C−A‖ %.6g\n", pl.AngleDegrees, pl.Points[1].X, math.Hypot(pl.Points[2].X, pl.Points[2].Y))
	if cfg.Mode == normalize.Weights {
		fmt.Fprintln(stdout, "  weights mode: batch-norm statistics stay A's, so the losses at B and C are not their own (use --mode states)")
	}
	fmt.Fprintf(stdout, "surface over the three models:\n  %s\n", cmdline)
	return nil
}

// planeCoordinates returns p's coordinates for people, a coordinate that is
// zero to rounding as 0. The coordinates are projections on the directions
// as stored in float32, whose rounding (at most 2⁻²⁴ of each value) moves
// a projection by up to 2⁻²⁴ of the model's distance from A: B's y, zero
// in exact arithmetic, comes out as a few 1e-11 in a plane 4.7 wide. What
// is within 2⁻²² of that distance is rounding; a genuine coordinate that
// small could not be told from it anyway (and C's y is at least 1e-6 of
// its distance, or there is no plane).
func planeCoordinates(p normalize.PlanePoint) (x, y float64) {
	tol := 0x1p-22 * math.Hypot(math.Hypot(p.X, p.Y), p.Residual)
	x, y = p.X, p.Y
	if math.Abs(x) <= tol {
		x = 0
	}
	if math.Abs(y) <= tol {
		y = 0
	}
	return x, y
}
