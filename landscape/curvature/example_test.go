package curvature_test

import (
	"context"
	"fmt"
	"math"

	"github.com/landscape-go/landscape/landscape/curvature"
)

// The Hessian of f(x, y, z) = x² − y²/2 + 3z² + xz is constant; its
// product with a vector is all a curvature method needs.
func ExampleExtremes() {
	hvp := curvature.Func{N: 3, F: func(_ context.Context, dst, v []float64) error {
		dst[0] = 2*v[0] + v[2]
		dst[1] = -v[1]
		dst[2] = v[0] + 6*v[2]
		return nil
	}}
	res, err := curvature.Extremes(context.Background(), hvp, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	lo, hi := res.Pairs[0].Value, res.Pairs[1].Value
	fmt.Printf("λmin = %.6f, λmax = %.6f (4+√5 = %.6f)\n", lo, hi, 4+math.Sqrt(5))
	fmt.Printf("|λmin/λmax| = %.6f\n", math.Abs(lo/hi))
	tr, err := curvature.Trace(context.Background(), hvp, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The Hessian's off-diagonal entries make the Rademacher samples vary.
	fmt.Printf("trace ≈ %.2f ± %.2f from %d samples (exact 7)\n", tr.Mean, tr.StdErr, tr.Samples)
	// Output:
	// λmin = -1.000000, λmax = 6.236068 (4+√5 = 6.236068)
	// |λmin/λmax| = 0.160357
	// trace ≈ 6.92 ± 0.20 from 100 samples (exact 7)
}
