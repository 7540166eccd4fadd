// The interactive views of landscape's pages (package export/view): each
// section.lv-panel holds its data as JSON; this draws its 3D surface with
// vis-graph3d and makes its contour image answer the mouse. A panel's
// data-lv-status becomes "ok", or the error that stopped it, which the
// page then shows.
(function () {
  "use strict";

  // fmt writes a value with 4 significant digits, or as the page's data
  // has it when it is not a number ("NaN", "+Inf").
  function fmt(v) {
    if (typeof v !== "number") return String(v);
    if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(3);
    return String(Number(v.toPrecision(4)));
  }

  function unit(metric) { return /_acc$/.test(metric) ? " %" : ""; }

  // nearest returns the index of the value of the ascending axis a
  // nearest to v.
  function nearest(a, v) {
    var best = 0;
    for (var i = 1; i < a.length; i++) {
      if (Math.abs(a[i] - v) < Math.abs(a[best] - v)) best = i;
    }
    return best;
  }

  function readout(d, ix, iy) {
    var n = d.x.length, k = iy * n + ix;
    var s = "α = " + fmt(d.x[ix]) + (d.y.length ? ", β = " + fmt(d.y[iy]) : "") + ":";
    for (var m = 0; m < d.metrics.length; m++) {
      s += (m ? ", " : " ") + d.metrics[m] + " " + fmt(d.values[m][k]) + unit(d.metrics[m]);
    }
    return s;
  }

  function initSurface(panel, d) {
    var el = panel.querySelector(".lv-graph");
    var s = d.surface;
    var data = s.points.map(function (p) { return { x: p[0], y: p[1], z: p[2], style: p[3], v: p[4] }; });
    var camera = { horizontal: -0.7, vertical: 0.5, distance: 2.2 };
    var options = {
      width: "100%", height: "100%", style: "surface",
      showPerspective: true, showGrid: true, showShadow: false, showLegend: false, showSurfaceGrid: s.grid,
      axisFontSize: 26, xCenter: "56%", yCenter: "45%",
      keepAspectRatio: true, verticalRatio: 0.6,
      xLabel: "α", yLabel: "β", zLabel: s.zLabel,
      zMin: s.z[0], zMax: s.z[1], valueMin: 0, valueMax: 1, colormap: s.colors,
      cameraPosition: camera,
      tooltip: function (p) {
        return "α = " + fmt(p.x) + ", β = " + fmt(p.y) + "<br>" + d.metric + " = " + fmt(p.data.v) + unit(d.metric);
      }
    };
    if (s.log) options.zValueLabel = function (z) { return fmt(Math.pow(10, z)); };
    var graph = new vis.Graph3d(el, data, options);
    var reset = panel.querySelector(".lv-reset");
    if (reset) reset.addEventListener("click", function () { graph.setCameraPosition(camera); });
  }

  function initMap(panel, d) {
    var svg = panel.querySelector(".lv-map");
    var cursor = svg.querySelector(".lv-cursor");
    var cx = svg.querySelector(".lv-cx"), cy = svg.querySelector(".lv-cy"), dot = svg.querySelector("circle");
    var out = panel.querySelector(".lv-readout");
    var r = d.map; // left, top, right, bottom in the image's units
    var is2D = d.y.length > 0;
    var xlo = d.x[0], xhi = d.x[d.x.length - 1];
    var ylo = is2D ? d.y[0] : 0, yhi = is2D ? d.y[d.y.length - 1] : 0;
    function toX(v) { return xhi === xlo ? (r[0] + r[2]) / 2 : r[0] + (v - xlo) / (xhi - xlo) * (r[2] - r[0]); }
    function toY(v) { return yhi === ylo ? (r[1] + r[3]) / 2 : r[3] - (v - ylo) / (yhi - ylo) * (r[3] - r[1]); }
    function set(line, x1, y1, x2, y2) {
      line.setAttribute("x1", x1); line.setAttribute("y1", y1);
      line.setAttribute("x2", x2); line.setAttribute("y2", y2);
    }
    function move(ev) {
      var box = svg.getBoundingClientRect(), vb = svg.viewBox.baseVal;
      var px = vb.x + (ev.clientX - box.left) / box.width * vb.width;
      var py = vb.y + (ev.clientY - box.top) / box.height * vb.height;
      if (px < r[0] || px > r[2] || py < r[1] || py > r[3]) { leave(); return; }
      var ix = nearest(d.x, xlo + (px - r[0]) / (r[2] - r[0]) * (xhi - xlo));
      var iy = is2D ? nearest(d.y, ylo + (r[3] - py) / (r[3] - r[1]) * (yhi - ylo)) : 0;
      // A cross at the grid point on the contours; on a curve, whose y
      // axis the page does not know, a vertical line.
      var gx = toX(d.x[ix]), gy = is2D ? toY(d.y[iy]) : r[1];
      set(cx, gx, r[1], gx, r[3]);
      set(cy, r[0], gy, r[2], gy);
      cy.setAttribute("visibility", is2D ? "inherit" : "hidden");
      dot.setAttribute("visibility", is2D ? "inherit" : "hidden");
      dot.setAttribute("cx", gx);
      dot.setAttribute("cy", gy);
      cursor.setAttribute("visibility", "visible");
      out.textContent = readout(d, ix, iy);
      panel.setAttribute("data-lv-point", ix + "," + iy);
    }
    function leave() { cursor.setAttribute("visibility", "hidden"); }
    svg.addEventListener("mousemove", move);
    svg.addEventListener("mouseleave", leave);
  }

  function init(panel) {
    try {
      var d = JSON.parse(panel.querySelector(".lv-data").textContent);
      if (d.surface) initSurface(panel, d);
      initMap(panel, d);
      panel.setAttribute("data-lv-status", "ok");
    } catch (e) {
      panel.setAttribute("data-lv-status", "error: " + e);
      var p = document.createElement("p");
      p.className = "lv-error";
      p.textContent = "This view could not be drawn: " + e;
      panel.insertBefore(p, panel.querySelector(".lv-views"));
    }
  }

  function start() {
    var panels = document.querySelectorAll("section.lv-panel");
    for (var i = 0; i < panels.length; i++) init(panels[i]);
    document.documentElement.setAttribute("data-lv-ready", String(panels.length));
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
