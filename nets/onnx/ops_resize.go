package onnx

import (
	"fmt"
	"math"
)

// opResize resizes with nearest or (multi-)linear interpolation, as
// exported upsampling layers (nn.Upsample, F.interpolate) do. Cubic
// interpolation and tf_crop_and_resize are refused. Upsample, its
// predecessor, is the same with asymmetric coordinates and floor rounding.
func opResize(upsample bool) opFunc {
	return func(c *opCtx, in []*Tensor) ([]*Tensor, error) {
		x, err := needFloat(in, 0)
		if err != nil {
			return nil, err
		}
		r := len(x.Shape)
		mode, err := c.str("mode", "nearest")
		if err != nil {
			return nil, err
		}
		coordMode, nearestMode := "asymmetric", "floor"
		var scalesT, sizesT *Tensor
		switch {
		case upsample && c.opset < 9:
			sc, ok, err := c.attr("scales", AttrFloats)
			if err != nil || !ok {
				return nil, fmt.Errorf("no scales: %w", ErrFormat)
			}
			scalesT = Floats([]int{len(sc.Floats)}, sc.Floats)
		case upsample || c.opset < 11:
			scalesT = opt(in, 1)
		default:
			if coordMode, err = c.str("coordinate_transformation_mode", "half_pixel"); err != nil {
				return nil, err
			}
			if nearestMode, err = c.str("nearest_mode", "round_prefer_floor"); err != nil {
				return nil, err
			}
			scalesT, sizesT = opt(in, 2), opt(in, 3)
			if _, ok := c.n.Attrs["axes"]; ok {
				return nil, fmt.Errorf("axes attribute: %w", ErrUnsupported)
			}
			if p, _ := c.str("keep_aspect_ratio_policy", "stretch"); p != "stretch" {
				return nil, fmt.Errorf("keep_aspect_ratio_policy %q: %w", p, ErrUnsupported)
			}
			if a, _ := c.int("antialias", 0); a != 0 {
				return nil, fmt.Errorf("antialias: %w", ErrUnsupported)
			}
		}
		if mode == "bilinear" || mode == "trilinear" {
			mode = "linear"
		}
		if mode != "nearest" && mode != "linear" {
			return nil, fmt.Errorf("mode %q: %w", mode, ErrUnsupported)
		}
		out := make([]int, r)
		scale := make([]float64, r)
		switch {
		case sizesT != nil && sizesT.Len() > 0:
			sz, err := intsOf(sizesT)
			if err != nil {
				return nil, err
			}
			if len(sz) != r {
				return nil, fmt.Errorf("sizes %v for rank %d: %w", sz, r, ErrFormat)
			}
			for i, s := range sz {
				if s < 0 || s > MaxElements {
					return nil, fmt.Errorf("sizes %v: %w", sz, ErrFormat)
				}
				out[i] = int(s)
				scale[i] = float64(s) / float64(x.Shape[i])
			}
		case scalesT != nil && scalesT.Len() > 0:
			if !scalesT.DType.IsFloat() || scalesT.Len() != r {
				return nil, fmt.Errorf("scales %v for rank %d: %w", scalesT.Shape, r, ErrFormat)
			}
			for i, s := range scalesT.F {
				o := math.Floor(float64(x.Shape[i]) * float64(s))
				if !(s > 0) || o > MaxElements {
					return nil, fmt.Errorf("scales %v: %w", scalesT.F, ErrFormat)
				}
				out[i], scale[i] = int(o), float64(s)
			}
		default:
			return nil, fmt.Errorf("neither scales nor sizes: %w", ErrFormat)
		}
		if err := checkElements(out); err != nil {
			return nil, err
		}
		// Per axis and output index: source coordinate.
		coords := make([][]float64, r)
		for a := range r {
			coords[a] = make([]float64, out[a])
			for i := range out[a] {
				// The resized length is in·scale, unrounded, as in ONNX's
				// reference (it differs from out[a] when scales are given).
				xf, n, s := float64(i), float64(x.Shape[a]), scale[a]
				o := n * s
				var v float64
				switch coordMode {
				case "half_pixel":
					v = (xf+0.5)/s - 0.5
				case "pytorch_half_pixel":
					if o > 1 {
						v = (xf+0.5)/s - 0.5
					}
				case "align_corners":
					if o > 1 {
						v = xf * (n - 1) / (o - 1)
					}
				case "asymmetric":
					v = xf / s
				case "tf_half_pixel_for_nn":
					v = (xf + 0.5) / s
				default:
					return nil, fmt.Errorf("coordinate_transformation_mode %q: %w", coordMode, ErrUnsupported)
				}
				coords[a][i] = v
			}
		}
		y := newTensor(x.DType, out)
		xs := stridesOf(x.Shape)
		if mode == "nearest" {
			src := make([][]int, r)
			for a := range r {
				src[a] = make([]int, out[a])
				for i, v := range coords[a] {
					var k float64
					switch nearestMode {
					case "round_prefer_floor":
						k = math.Floor(v)
						if v-k > 0.5 {
							k++
						}
					case "round_prefer_ceil":
						k = math.Floor(v)
						if v-k >= 0.5 {
							k++
						}
					case "floor":
						k = math.Floor(v)
					case "ceil":
						k = math.Ceil(v)
					default:
						return nil, fmt.Errorf("nearest_mode %q: %w", nearestMode, ErrUnsupported)
					}
					src[a][i] = min(max(int(k), 0), x.Shape[a]-1) * xs[a]
				}
			}
			coord := make([]int, r)
			for i := range y.F {
				rem, off := i, 0
				for a := r - 1; a >= 0; a-- {
					coord[a] = rem % out[a]
					rem /= out[a]
					off += src[a][coord[a]]
				}
				y.F[i] = x.F[off]
			}
			return []*Tensor{y}, nil
		}
		// Linear: per axis the two neighbours and the weight of the upper.
		lo, hi := make([][]int, r), make([][]int, r)
		wt := make([][]float64, r)
		for a := range r {
			lo[a], hi[a], wt[a] = make([]int, out[a]), make([]int, out[a]), make([]float64, out[a])
			n := x.Shape[a]
			for i, v := range coords[a] {
				v = min(max(v, 0), float64(n-1))
				k := int(math.Floor(v))
				lo[a][i], hi[a][i], wt[a][i] = k*xs[a], min(k+1, n-1)*xs[a], v-float64(k)
			}
		}
		coord := make([]int, r)
		corners := 1 << r
		for i := range y.F {
			rem := i
			for a := r - 1; a >= 0; a-- {
				coord[a] = rem % out[a]
				rem /= out[a]
			}
			var sum float64
			for cn := range corners {
				w, off := 1.0, 0
				for a := range r {
					if cn>>a&1 == 1 {
						w *= wt[a][coord[a]]
						off += hi[a][coord[a]]
					} else {
						w *= 1 - wt[a][coord[a]]
						off += lo[a][coord[a]]
					}
				}
				if w != 0 {
					sum += w * float64(x.F[off])
				}
			}
			y.F[i] = float32(sum)
		}
		return []*Tensor{y}, nil
	}
}
