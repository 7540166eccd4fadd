package landscape

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/landscape-go/landscape/backend"
	"github.com/landscape-go/landscape/backend/cpu"
	"github.com/landscape-go/landscape/backend/cuda"
)

// Device says where forward passes run: "cpu"; "cuda" or "cuda:N", a GPU,
// failing if it cannot be used; "auto", the first GPU if one works, else
// the CPU. The empty Device is "cpu".
type Device struct {
	Name string
	// TF32 lets a GPU compute convolutions in TF32 (PyTorch's default on
	// GPUs); FP32 otherwise.
	TF32 bool
	// Workers is the number of CPU workers; 0 means all cores.
	Workers int
}

// ParseDevice checks a device name: cpu, auto, cuda or cuda:N.
func ParseDevice(s string) (kind string, ordinal int, err error) {
	switch {
	case s == "" || s == "cpu":
		return "cpu", 0, nil
	case s == "auto" || s == "cuda":
		return s, 0, nil
	case strings.HasPrefix(s, "cuda:"):
		n, err := strconv.Atoi(s[len("cuda:"):])
		if err != nil || n < 0 {
			return "", 0, fmt.Errorf("landscape: device %q: want cuda:N with N a GPU's ordinal (0, 1, ...)", s)
		}
		return "cuda", n, nil
	}
	return "", 0, fmt.Errorf("landscape: unknown device %q: want auto, cpu, cuda or cuda:N", s)
}

// newEvaluator builds the evaluator for p on device d and names its
// backend ("cpu" or "cuda"). With "auto" a GPU that fails to start is
// reported through logf and the CPU used instead.
func newEvaluator(p *backend.Problem, d Device, logf func(string, ...any)) (backend.Evaluator, string, error) {
	kind, ordinal, err := ParseDevice(d.Name)
	if err != nil {
		return nil, "", err
	}
	if kind == "auto" {
		if r := cuda.Probe(); len(r.Devices) > 0 {
			ev, err := cuda.New(p, &cuda.Options{TF32: d.TF32})
			if err == nil {
				return ev, "cuda", nil
			}
			logf("device auto: %s found but not usable (%v); computing on the CPU", r.Devices[0], err)
		}
		kind = "cpu"
	}
	if kind == "cuda" {
		ev, err := cuda.New(p, &cuda.Options{Device: ordinal, TF32: d.TF32})
		if err != nil {
			return nil, "", err
		}
		return ev, "cuda", nil
	}
	ev, err := cpu.New(p, &cpu.Options{Workers: d.Workers})
	if err != nil {
		return nil, "", err
	}
	return ev, "cpu", nil
}
