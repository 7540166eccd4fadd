// Package demo embeds small trained networks and a slice of their test
// data, so that "landscape demo" computes real loss surfaces with no
// downloads.
//
// # Overview
//
// The assets were made by the scripts in scripts/demo (see
// assets/README.md): the same ResNet trained on Fashion-MNIST with and
// without skip connections ([Showcase]), and the first test images as
// gzipped IDX files. [Extract] writes them to a folder, where the ordinary
// loaders read them like any user's files.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed assets/*-fashion14.pt assets/fashion14/*.gz
var assets embed.FS

// Model is one embedded network: its zoo name, a label for figures, and
// its checkpoint file.
type Model struct {
	Model, Label, Checkpoint string
}

// Showcase lists the embedded networks: one architecture with and without
// skip connections, trained alike.
func Showcase() []Model {
	return []Model{
		{"resnet56", "ResNet-56", "resnet56-fashion14.pt"},
		{"resnet56_noshort", "ResNet-56, no skip connections", "resnet56_noshort-fashion14.pt"},
	}
}

const (
	// Size is the side of the embedded images: Fashion-MNIST averaged
	// down to 14x14, so that 56-layer networks run fast.
	Size = 14
	// Images is the number of embedded test images.
	Images = 1000
	// DefaultSamples and DefaultGrid keep the demo to about a minute on
	// two cores.
	DefaultSamples = 200
	DefaultGrid    = "-1:1:21"
	// CurvatureGrid and CurvatureSamples size the curvature maps of
	// "landscape demo --curvature": 2½ to 5 minutes each on two cores.
	CurvatureGrid    = "-1:1:7"
	CurvatureSamples = 32
	// CurvatureSuffix ends the names of the curvature maps' files:
	// resnet56_curvature.parquet, resnet56_curvature_test_lambda_ratio_2dheat.png.
	CurvatureSuffix = "_curvature"
)

// The demo's race: ResNet-56 (with skip connections) trained from
// PyTorch's default initialisation by each of RaceOptimizers, for
// RaceEpochs epochs in batches of RaceBatch on the first RaceSamples
// embedded images, its paths drawn on a RaceGrid × RaceGrid surface over
// those images, on the plane of all the runs' checkpoints, in the folder
// RaceDir of the demo's output: about 40 s on two cores. The learning rates are ones each optimizer trains well at
// here (momentum at 0.05 stalls at a loss of 2 after six epochs).
const (
	RaceOptimizers = "sgd:0.05,momentum:0.01,adam:0.001"
	RaceSamples    = 500
	RaceEpochs     = 6
	RaceBatch      = 25
	RaceGrid       = 15
	RaceSeed       = 1 // of the initial weights and of the batches' order
	RaceDir        = "race"
)

// Extract writes the embedded assets into dir (created if needed) and
// returns the folder holding the data files; checkpoints are written to
// dir itself.
func Extract(dir string) (dataDir string, err error) {
	defer func() { dataDir = filepath.Join(dir, "fashion14") }()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("demo: %w", err)
	}
	err = fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("assets", path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := assets.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("demo: extract assets: %w", err)
	}
	return "", nil
}
