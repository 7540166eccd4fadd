package onnx

import (
	"fmt"
	"math"

	"github.com/landscape-go/landscape/nets"
)

// nllLoss computes NegativeLogLikelihoodLoss of log-probabilities x
// [N, C, d...] against class indices target [N, d...], with optional
// class weights, ignore_index and reduction none, sum or mean (the mean
// divides by the summed weights of the counted targets, as PyTorch does).
func nllLoss(c *opCtx, x, target, weight *Tensor) (*Tensor, error) {
	reduction, err := c.str("reduction", "mean")
	if err != nil {
		return nil, err
	}
	ign, hasIgnore := c.n.Attrs["ignore_index"]
	tgt, err := intsOf(target)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 2 || len(target.Shape) != len(x.Shape)-1 || target.Shape[0] != x.Shape[0] {
		return nil, fmt.Errorf("input %v, target %v: %w", x.Shape, target.Shape, ErrFormat)
	}
	for i, d := range target.Shape[1:] {
		if d != x.Shape[i+2] {
			return nil, fmt.Errorf("input %v, target %v: %w", x.Shape, target.Shape, ErrFormat)
		}
	}
	C := x.Shape[1]
	if weight != nil && (!weight.DType.IsFloat() || weight.Len() != C) {
		return nil, fmt.Errorf("weight %v for %d classes: %w", weight.Shape, C, ErrFormat)
	}
	inner := nets.NumElements(x.Shape[2:])
	loss := newTensor(x.DType, target.Shape)
	var sum, wsum float32
	for n := range x.Shape[0] {
		for j := range inner {
			i := n*inner + j
			k := tgt[i]
			if hasIgnore && k == ign.I {
				continue
			}
			if k < 0 || k >= int64(C) {
				return nil, fmt.Errorf("target %d out of range for %d classes: %w", k, C, ErrFormat)
			}
			w := float32(1)
			if weight != nil {
				w = weight.F[k]
			}
			loss.F[i] = -x.F[(n*C+int(k))*inner+j] * w
			sum += loss.F[i]
			wsum += w
		}
	}
	switch reduction {
	case "none":
		return loss, nil
	case "sum":
		return Floats([]int{}, []float32{sum}), nil
	case "mean":
		if wsum == 0 {
			return Floats([]int{}, []float32{float32(math.NaN())}), nil
		}
		return Floats([]int{}, []float32{sum / wsum}), nil
	}
	return nil, fmt.Errorf("reduction %q: %w", reduction, ErrFormat)
}

func opNLLLoss(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	target, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	loss, err := nllLoss(c, x, target, opt(in, 2))
	return []*Tensor{loss}, err
}

// opSoftmaxCrossEntropy is NegativeLogLikelihoodLoss of LogSoftmax over
// axis 1; its optional second output is the log-probabilities.
func opSoftmaxCrossEntropy(c *opCtx, in []*Tensor) ([]*Tensor, error) {
	x, err := needFloat(in, 0)
	if err != nil {
		return nil, err
	}
	target, err := need(in, 1)
	if err != nil {
		return nil, err
	}
	if len(x.Shape) < 2 {
		return nil, fmt.Errorf("scores %v: %w", x.Shape, ErrFormat)
	}
	N, C := x.Shape[0], x.Shape[1]
	inner := nets.NumElements(x.Shape[2:])
	logp := newTensor(x.DType, x.Shape)
	for n := range N {
		for j := range inner {
			m := float32(math.Inf(-1))
			for k := range C {
				m = max(m, x.F[(n*C+k)*inner+j])
			}
			var s float64
			for k := range C {
				s += math.Exp(float64(x.F[(n*C+k)*inner+j] - m))
			}
			ls := float32(math.Log(s))
			for k := range C {
				i := (n*C+k)*inner + j
				logp.F[i] = x.F[i] - m - ls
			}
		}
	}
	loss, err := nllLoss(c, logp, target, opt(in, 2))
	return []*Tensor{loss, logp}, err
}
