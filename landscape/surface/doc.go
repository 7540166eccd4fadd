// Package surface is the data model of a loss landscape: the values of
// some metrics sampled on a grid of the plane spanned by two directions
// (or along one), and the record of how they were computed.
//
// # Overview
//
// A [Surface] is long-format, one [Point] per grid point with its flat
// grid index, coordinates and one value per metric, the shape of the
// Parquet file package export writes. Its [Provenance] records the model,
// checkpoint, directions, data, grid and shard; [Provenance.Compatible]
// says whether two surfaces or shards were computed the same way, and
// [Merge] joins the shards of one surface. A file left by an interrupted
// run holds only some of its shard's points: its [Progress] says how many.
//
// # Fields and flatness
//
// [Surface.Field] gives one metric as a dense grid, a [Field], on which
// the numbers that compare surfaces for flatness are defined:
// [Field.CircleMean] (the rise over a circle around the centre),
// [Field.Basin] (area and share below a threshold), [Field.BasinWidths]
// and [Field.NegativeCurvature], gathered by [Field.Flatness]. Between grid
// points a field is bilinear for [Field.At] and piecewise linear on four
// triangles per cell for the basin area and for [Field.Contours] and
// [Field.Bands], the geometry the contour plots draw, so that figures and
// numbers agree.
package surface
