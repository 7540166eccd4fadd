// Package view writes interactive views of loss surfaces: one HTML file
// that a browser opens from disk, with no network and no server, showing a
// surface as a 3D surface to rotate and zoom and as contours to read values
// from.
//
// # Overview
//
// A [Panel] is the view of one metric of one [surface.Surface]. For a 2D
// surface it holds
//
//   - the 3D surface, drawn in the browser by vis-graph3d on a 2D canvas
//     (no WebGL, so it draws the same in a headless browser, a virtual
//     machine or a remote desktop): drag to rotate, scroll to zoom, hover
//     for the value at a grid point. Heights and colours are those of the
//     3D figure of package export, clipped at the top of its scale.
//   - the filled contours with their contour lines and colour bar, drawn
//     by package export's plotters with the figures' levels and colours
//     into an image; hovering shows every metric at the nearest grid
//     point, and marks it.
//
// A 1D surface gets its curve, with the same readout. The scales come from
// [export.FigureScales], so a view agrees with the figures that
// "landscape plot" draws from the same options.
//
// [WritePage] writes a page of panels; [Head], [Panel.HTML] and [Footer]
// place them in a page of one's own, as the demo's index.html does.
//
// # The vendored library
//
// vis-graph3d's standalone build (about 170 kB, dual licensed Apache-2.0
// or MIT) is embedded in the package from js/, with the licences of what
// it bundles in js/LICENSE, and inlined into every page. It is copied from
// npm at the version pinned in scripts/vendor-js by scripts/vendor-js.sh;
// nothing is fetched when a page is written or opened. Plotly, ECharts-GL
// and three.js were set aside: they draw 3D through WebGL only, which
// headless and GPU-less browsers often lack, and plotly.js is 10 to 28
// times larger (4.8 MB; its 3D-only bundle 1.8 MB).
//
// # Testing
//
// The tests render a page in headless Chromium (chromium-headless-shell
// or chromium on PATH, or LANDSCAPE_CHROMIUM), compare the screenshot with
// testdata/page.png at a tolerance, and drive a rotation and a hover; they
// skip when no Chromium is found, unless LANDSCAPE_REQUIRE_BROWSER=1.
package view
