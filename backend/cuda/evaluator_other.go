//go:build !linux || android

package cuda

import (
	"context"
	"errors"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/nets"
)

// Evaluator is the CUDA evaluator; this build has none.
type Evaluator struct{}

// New reports that the CUDA evaluator runs on Linux only.
func New(p *backend.Problem, opts *Options) (*Evaluator, error) {
	return nil, errors.New("cuda: the CUDA evaluator runs on Linux only")
}

// Runs reports that the CUDA evaluator runs on Linux only.
func Runs(*nets.Net) error { return errors.New("cuda: the CUDA evaluator runs on Linux only") }

func (e *Evaluator) Evaluate(context.Context, []backend.Coord, func(int, []float64)) error {
	return errors.New("cuda: no evaluator")
}
func (e *Evaluator) Describe() string   { return "none" }
func (e *Evaluator) Arithmetic() string { return "none" }
func (e *Evaluator) BatchSize() int     { return 0 }
func (e *Evaluator) Close() error       { return nil }

// Libraries reports that this build loads no CUDA libraries.
func Libraries() (string, error) {
	return "", errors.New("cuda: the CUDA evaluator runs on Linux only")
}

// Differentiator is the CUDA differentiator; this build has none.
type Differentiator struct{}

// NewDifferentiator reports that the CUDA differentiator runs on Linux only.
func NewDifferentiator(p *backend.Problem, params []string, opts *Options) (*Differentiator, error) {
	return nil, errors.New("cuda: the CUDA differentiator runs on Linux only")
}

func (d *Differentiator) Params() []nets.Param { return nil }
func (d *Differentiator) Dim() int             { return 0 }
func (d *Differentiator) Gradient(context.Context, backend.Coord, []float32) (float64, error) {
	return 0, errors.New("cuda: no differentiator")
}
func (d *Differentiator) HVP(context.Context, backend.Coord, []float32, []float32) (float64, error) {
	return 0, errors.New("cuda: no differentiator")
}
func (d *Differentiator) Describe() string { return "none" }
func (d *Differentiator) Close() error     { return nil }
