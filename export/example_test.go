package export_test

import (
	"github.com/landscape-go/landscape/landscape/surface"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"

	"github.com/landscape-go/landscape/export"
	"github.com/landscape-go/landscape/grid"
)

// bowl returns the 1D surface of the loss x² on the axis -1:1:5, with an
// accuracy that falls off away from the centre.
func bowl() *surface.Surface {
	s := &surface.Surface{Metrics: []string{"train_loss", "train_acc"}}
	s.Provenance.Tool = "landscape"
	s.Provenance.Grid.X = grid.Axis{Min: -1, Max: 1, Num: 5}
	for i, x := range s.Provenance.Grid.X.Values() {
		s.Points = append(s.Points, surface.Point{
			Index:  i,
			X:      x,
			Y:      math.NaN(), // 1D
			Values: []float64{x * x, 1 - math.Abs(x)/2},
		})
	}
	return s
}

func ExampleWriteCSV() {
	if err := export.WriteCSV(os.Stdout, bowl()); err != nil {
		log.Fatal(err)
	}
	// Output:
	// x,y,train_loss,train_acc
	// -1,,1,0.5
	// -0.5,,0.25,0.75
	// 0,,0,1
	// 0.5,,0.25,0.75
	// 1,,1,0.5
}

func ExampleReadParquet() {
	dir, err := os.MkdirTemp("", "landscape")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "surface.parquet")

	if err := export.WriteParquet(path, bowl()); err != nil {
		log.Fatal(err)
	}
	s, err := export.ReadParquet(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.Metrics, s.Provenance.Tool, s.Provenance.Grid.X)
	for _, p := range s.Points {
		fmt.Println(p.Index, p.X, p.Y, p.Values)
	}
	// Output:
	// [train_loss train_acc] landscape -1:1:5
	// 0 -1 NaN [1 0.5]
	// 1 -0.5 NaN [0.25 0.75]
	// 2 0 NaN [0 1]
	// 3 0.5 NaN [0.25 0.75]
	// 4 1 NaN [1 0.5]
}
