package main

import (
	"testing"

	"github.com/landscape-go/landscape/normalize"
)

// TestPlaneCoordinatesZeroToRounding: a coordinate within the float32
// rounding of the directions, relative to the model's distance from A,
// prints as 0; one above it, however small, as itself.
func TestPlaneCoordinatesZeroToRounding(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name         string
		p            normalize.PlanePoint
		wantX, wantY float64
	}{
		{"A", normalize.PlanePoint{}, 0, 0},
		{"B, as a user saw it", normalize.PlanePoint{X: 1.25, Y: -1.3e-9, Residual: 1e-8}, 1.25, 0},
		{"B of the resnet20 fixture", normalize.PlanePoint{X: 4.67278290880782, Y: 2.9134453689709075e-11, Residual: 1.19e-7}, 4.67278290880782, 0},
		{"C nearly orthogonal to B", normalize.PlanePoint{X: 0.00471632, Y: 3.66332}, 0.00471632, 3.66332},
		{"small, but above rounding", normalize.PlanePoint{X: 1e-6, Y: 1}, 1e-6, 1},
		{"a tiny plane keeps its scale", normalize.PlanePoint{X: 2e-12, Y: 3e-12}, 2e-12, 3e-12},
		{"x the noise", normalize.PlanePoint{X: -4e-9, Y: 0.5}, 0, 0.5},
	} {
		if x, y := planeCoordinates(tt.p); x != tt.wantX || y != tt.wantY {
			t.Errorf("%s: %+v printed as (%g, %g), want (%g, %g)", tt.name, tt.p, x, y, tt.wantX, tt.wantY)
		}
	}
}
