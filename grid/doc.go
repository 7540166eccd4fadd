// Package grid lays out the points of a loss surface.
//
// # Overview
//
// An [Axis] is an evenly spaced range with both ends included, written
// min:max:num as the reference's --x and --y flags take it (-1:1:51 has
// step 0.04 and hits 0 exactly). A [Grid] is one axis (a 1D curve) or the
// product of two; its points are numbered iy·nx + ix so that a metric's
// values in index order form the array Z[y][x] that contour plots take,
// square or not.
//
// A [Shard] is one of n shares of the points, dealt round-robin, which is
// how a cluster job array splits a surface.
package grid
