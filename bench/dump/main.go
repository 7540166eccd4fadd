// Command dump prints a surface written by 'landscape surface' as JSON, one
// object per point with its coordinates and metrics, for the benchmark
// script to compare with PyTorch's.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"

	"github.com/landscape-go/landscape/export"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: dump SURFACE.parquet")
		os.Exit(2)
	}
	s, err := export.ReadParquet(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		os.Exit(1)
	}
	type point struct {
		X      float64            `json:"x"`
		Y      *float64           `json:"y"`
		Values map[string]float64 `json:"values"`
	}
	out := make([]point, 0, len(s.Points))
	for _, p := range s.Points {
		q := point{X: p.X, Values: map[string]float64{}}
		if !math.IsNaN(p.Y) {
			q.Y = &p.Y
		}
		for i, m := range s.Metrics {
			q.Values[m] = p.Values[i]
		}
		out = append(out, q)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, "dump:", err)
		os.Exit(1)
	}
}
