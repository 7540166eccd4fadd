// Package demo embeds a small trained network and a slice of its test data,
// so that "landscape demo" computes a real loss surface with no downloads.
//
// # Overview
//
// The assets were made by scripts/demo/train.py (see assets/README.md): a
// ResNet-20 trained on Fashion-MNIST (1x28x28 inputs) and the first 1000
// images of the Fashion-MNIST test split, as gzipped IDX files. [Extract]
// writes them to a folder, where the ordinary loaders read them like any
// user's files.
package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed assets/*.pt assets/*.gz
var assets embed.FS

// Model is the zoo name of the embedded network and Checkpoint its file.
const (
	Model      = "resnet20"
	Checkpoint = "resnet20-fashion.pt"
)

// Extract writes the embedded assets into dir (created if needed) and
// returns the paths of the checkpoint and of the data folder.
func Extract(dir string) (checkpoint, data string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", fmt.Errorf("demo: %w", err)
	}
	err = fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, filepath.Base(path)), b, 0o644)
	})
	if err != nil {
		return "", "", fmt.Errorf("demo: extract assets: %w", err)
	}
	return filepath.Join(dir, Checkpoint), dir, nil
}
