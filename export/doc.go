// Package export is where a loss landscape leaves the program: it writes a
// [surface.Surface] as files other tools read, reads those files back, and
// draws and summarizes surfaces.
//
// # Overview
//
// The file format is Parquet, which pandas, DuckDB, Polars and Spark read
// without help from this module. A surface file is long-format, one row per
// grid point, with these columns in this order:
//
//	x           DOUBLE  required  the coordinate α
//	y           DOUBLE  optional  the coordinate β, null in a 1D surface
//	train_loss  DOUBLE  required  one column per entry of Surface.Metrics,
//	...                           in that order
//
// so that
//
//	pandas.read_parquet(f).pivot(index="y", columns="x", values="train_loss")
//
// is the 2D array. NaN and ±Inf values, which a loss reaches far from the
// centre, are stored as such. The point's flat grid index is not a column:
// [ReadParquet] recomputes it from x and y and the grid, by matching each
// coordinate to the values of its [grid.Axis].
//
// The file's key-value metadata holds the [surface.Provenance] as JSON under
// [surface.MetadataKey]; a file without it is not a surface and reading it
// fails with [ErrNoProvenance]. Pages are compressed with zstd and a file is
// one row group.
//
// # Writing safely
//
// Every file this package writes — [WriteParquet], [WriteVTK],
// [Figure.Save] and so [WritePlots] — goes to a temporary file in the
// destination folder, which is synced to disk and renamed over the
// destination, and the folder is synced after the rename; so an
// interrupted run or a failed write never leaves a partial file under the
// real name, and a file that exists after a crash holds what was written.
//
// A file that exists is whole, but a surface file need not hold every
// point of its grid or shard: a run with --save-every rewrites its part
// file as it goes, and one that is interrupted leaves a part whose
// provenance says so, with Progress.Done < Progress.Total (see
// [surface.Progress.Complete]); running the same command again resumes
// it, and [surface.Merge] refuses parts that miss points. [EncodeParquet]
// writes the same bytes as WriteParquet to any [io.Writer], and
// [DecodeParquet] reads them back from an [io.ReaderAt].
//
// # Other outputs
//
// [WriteCSV] writes the columns of the Parquet file as comma-separated text
// with a header line, for tools that do not read Parquet. [EncodeVTK]
// writes one metric as ParaView's .vtp, as the reference's h52vtp.
//
// # Figures
//
// [NewFigure] and [WritePlots] draw a surface with gonum/plot — contour
// lines, filled contours, a heat map, a shaded 3D surface, or loss and
// accuracy on twin axes for a 1D curve — and [NewCompareFigure] draws
// several side by side on one colour scale. The 2D figures are made of
// plotters that a program can use in gonum/plot figures of its own:
// [ContourLines], [FilledContours], [HeatMap], [MissingCells] and
// [ColorBar], coloured by a [ColorScale]; [GridXYZ] offers a field to
// gonum's own plotters.
//
// # Comparing surfaces
//
// [Summarize] computes the flatness of a surface as package surface
// defines it ([surface.Field.Flatness]: centre value, rise over circles,
// basin area, share and widths, share of negative curvature), and
// [WriteSummaryCSV], [WriteSummaryMarkdown] and [WriteSummaryText] write
// the table of several.
package export
