// Package landscape computes loss landscapes: the loss and accuracy of a
// trained network at the weights θ + αu + βv over a grid of (α, β).
//
// # Overview
//
// [Run] computes a surface from files: a [Spec] says what to compute (the
// zoo model, the checkpoint, the data, how the directions are made, the
// grid), [Options] how to run it (the [Device], a [Store] that keeps the
// points so that a killed run resumes, progress and log). [Compute] does
// the same from values in memory, an [Input]: a network and its weights
// (trained in Go, or through the Gorgonia adapter), datasets, and
// directions or a seed to draw them. Both return a [surface.Surface],
// long-format (one point per grid point) with its provenance: the model,
// the checkpoint's SHA-256 (or its values' hash), how the directions were
// made and a hash of their values, the data, the grid, the backend.
//
// [LoadWeights] is the one way every command reads a checkpoint: the
// network is built for it, the weights must fit it and be finite, and the
// file is hashed. [WriteDirections] writes random directions once, for
// the shards of a cluster run.
//
// [RunTrajectory] computes PCA directions from a training trajectory (see
// [normalize.PCA]) and the path of its checkpoints in their plane, with
// the loss at each checkpoint and at its projected point; [NewPlane] the
// plane through three checkpoints. Both write their directions with the
// grid that covers their models ([AxesCovering]), ready for a surface.
//
// # Numerics
//
// The numbers follow the reference code of Li et al. (2018): directions are
// filter-normalised random draws with bias and batch-norm directions
// zeroed, batch norm runs in eval mode with the centre's running
// statistics, the loss is the exact per-sample mean cross-entropy over the
// whole selected data and the accuracy is in percent. Coordinates are
// numpy.linspace's, both ends included; 2D arrays are Z[y][x].
package landscape
