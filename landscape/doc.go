// Package landscape computes loss landscapes: the loss and accuracy of a
// trained network at the weights θ + αu + βv over a grid of (α, β).
//
// # Overview
//
// [Run] ties a computation together from a [Config]: it loads the
// checkpoint and the data, builds the zoo architecture, makes or reads the
// directions u and v, evaluates every grid point on a backend and returns a
// [surface.Surface], long-format (one [surface.Point] per grid point) with its
// [surface.Provenance]: the model, the checkpoint's SHA-256, how the directions
// were made and a hash of their values, the data, the grid, the backend.
//
// [RunTrajectory] computes PCA directions from a training trajectory (see
// [normalize.PCA]) and the path of its checkpoints in their plane, with the
// loss at each checkpoint and at its projected point; [AxesCovering]
// suggests a grid that covers such a path.
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
