//go:build !amd64

package cpu

// There is no vector code for this architecture: the loops of
// diff_vector.go do every value.

func affineVec(dst, x []float32, a, b float32, relu bool) int                        { return 0 }
func bnTangentVec(dst, rx, x []float32, scale, m, k, b float32) int                  { return 0 }
func axpyVec(dst, x []float32, a float32) int                                        { return 0 }
func axpy2Vec(dst, x, y []float32, a, b float32) int                                 { return 0 }
func sumVec(dst, a, b []float32) int                                                 { return 0 }
func reluVec(y, x []float32) int                                                     { return 0 }
func maskedVec(dst, src, y []float32, add bool) int                                  { return 0 }
func centredDotVec(a, x []float32, m float32, g, r []float32, sums *[16]float64) int { return 0 }

func moments64Vec(x []float32, mean float64, centred bool, sums *[8]float64) int { return 0 }
func bnTrainSumsVec(gy, x []float32, mean float64, sums *[16]float64) int        { return 0 }
func bnTrainGradVec(gx, gy, x []float32, c *[4]float64, set bool) int            { return 0 }
