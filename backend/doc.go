// Package backend defines what a device must do to evaluate a loss surface.
//
// # Overview
//
// A [Problem] holds the architecture, the centre weights, the directions and
// the data, all in memory. An [Evaluator] built for it by a backend (the
// sub-package cpu; a CUDA one behind the same interface) forms θ + αu + βv
// itself for each [Coord] and returns the mean loss and accuracy over each
// dataset. Grid layout, sharding, files and plots are not its business.
package backend
