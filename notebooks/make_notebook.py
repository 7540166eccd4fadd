#!/usr/bin/env python3
"""Writes landscape.ipynb, the notebook that reads a landscape surface with the
repository's Python package (python/landscape_go) and draws the reference's
figures with matplotlib.

The cells are kept here, as Python source, so that changes to them are
reviewable; run this script after editing them:

    python3 notebooks/make_notebook.py [--execute] [OUT.ipynb]

Without --execute it uses only the standard library and writes the notebook
without outputs. With --execute it also runs the code cells in order, in one
namespace, in the notebooks/ folder (the notebook's paths are relative to it),
with matplotlib's Agg backend, and saves what they print and the figures they
show as the cells' outputs, as Jupyter would; that needs NumPy, matplotlib,
the landscape binary (see python/landscape_go) and the surfaces that the first
code cell names (by default those that `landscape demo` writes in the
repository root). A cell that raises makes the script exit non-zero with the
traceback and write nothing. notebook_test.go runs the code cells as a script
where those are at hand.
"""

import argparse
import ast
import base64
import builtins
import copy
import io
import json
import linecache
import os
import sys
import traceback

MD, CODE = "markdown", "code"

CELLS = [
    (MD, r"""# Loss landscapes in Python

This notebook reads a surface written by `landscape surface`, `landscape merge` or
`landscape demo` with the repository's Python package `landscape_go` (in `python/`),
and redraws the figures of Li et al.'s reference implementation with matplotlib: the
contour plot, the 3D surface and a comparison of several surfaces with the flatness
table of `landscape compare`. It needs NumPy and matplotlib, and the `landscape`
binary (`$LANDSCAPE_BIN`, on `PATH`, or the checkout's `bin/landscape`): the package
reads Parquet with pyarrow where it is installed and otherwise has the binary convert
it, and the flatness numbers are always the tool's.

The Parquet file is long-format, one row per grid point: columns `x`, `y` (null
for a 1D surface) and one column per metric (`train_loss`, `train_acc`, ...). Its
key-value metadata holds the run's provenance as JSON under
`landscape.provenance`. The last cell shows how to read it without the package,
with pandas, DuckDB or Polars.

To get surfaces to look at, run `landscape demo` in the repository root: it writes
`landscape-demo/resnet56.parquet` and `landscape-demo/resnet56_noshort.parquet`,
the same network with and without skip connections. `SURFACE` below reads the
first and `COMPARE` the second, when it exists; point them at your own instead.
Set `COMPARE` to other surfaces (paths separated by `:`) to compare them, or to
none, and `METRIC` to choose the metric; the same can be given in the environment
variables `LANDSCAPE_SURFACE`, `LANDSCAPE_COMPARE` (empty for none) and
`LANDSCAPE_METRIC`."""),
    (CODE, r"""import os

SURFACE = os.environ.get("LANDSCAPE_SURFACE", "../landscape-demo/resnet56.parquet")
if "LANDSCAPE_COMPARE" in os.environ:  # paths separated by os.pathsep; "" for none
    COMPARE = [p for p in os.environ["LANDSCAPE_COMPARE"].split(os.pathsep) if p]
else:  # the demo's network without skip connections, if `landscape demo` wrote it
    COMPARE = [p for p in ["../landscape-demo/resnet56_noshort.parquet"] if os.path.exists(p)]
METRIC = os.environ.get("LANDSCAPE_METRIC", "")  # "" = train_loss, or the first *_loss column
OUT = os.environ.get("LANDSCAPE_NOTEBOOK_OUT", "")  # if set, figures are also saved there as PNG"""),
    (CODE, r"""import sys

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import cm
from matplotlib.colors import ListedColormap

try:
    import landscape_go as lg
except ImportError:  # not installed (pip install ./python): the package in the checkout
    sys.path.insert(0, os.path.abspath("../python"))
    import landscape_go as lg


def describe(prov):
    m, d, dr = prov.get("model", {}), prov.get("data", {}), prov.get("directions", {})
    return "{} on {} {}; directions {} (seed {}, norm {}, ignore {})".format(
        m.get("name", "?"), d.get("name", "?"), "+".join(d.get("splits") or []),
        dr.get("kind", "?"), dr.get("seed", "?"), dr.get("norm", "?"), dr.get("ignore", "?"))


def save(fig, name):
    if OUT:
        os.makedirs(OUT, exist_ok=True)
        fig.savefig(os.path.join(OUT, name + ".png"), dpi=100, bbox_inches="tight")


s = lg.read(SURFACE)  # x, y, metrics and the provenance from the Parquet file
METRIC = METRIC or s.default_metric
x, y, Z = s.x, s.y, s.grid(METRIC)  # Z[j][i], as matplotlib's contour takes it; y is None in 1D
print(describe(s.provenance))
print("{} points, metrics {}; {}: {}".format(
    len(s), s.metrics, METRIC,
    "1D" if y is None else "{} x {} grid (Z[y][x] is {})".format(len(x), len(y), Z.shape)))
print("NaN or infinite {}: {} points".format(METRIC, int((~np.isfinite(Z)).sum())))"""),
    (MD, r"""## Contours

The reference's `plot_2d_contour`: contour lines at `numpy.arange(0.1, 10, 0.5)` with
the `summer` colour map, labelled, and filled contours on the same levels. Grid
cells with a NaN or infinite value are masked; they are shaded grey here. For a 1D
surface this draws the loss and accuracy on twin axes, as `plot_1d_loss_err` does."""),
    (CODE, r"""LEVELS = np.arange(0.1, 10, 0.5)


def shade_missing(ax, x, y, Z):
    bad = ~np.isfinite(Z)
    if bad.any():
        ax.pcolormesh(x, y, np.where(bad, 1.0, np.nan), cmap=ListedColormap(["0.75"]), shading="nearest")


if y is None:
    fig, ax1 = plt.subplots(figsize=(6, 4.5))
    ax1.plot(x, Z, "b-", label=METRIC)
    ax1.set_xlabel("α")
    ax1.set_ylabel(METRIC, color="b")
    acc = METRIC.replace("_loss", "_acc")
    if acc != METRIC and acc in s.metrics:
        ax2 = ax1.twinx()
        ax2.plot(x, s.grid(acc), "r-", label=acc)
        ax2.set_ylabel(acc, color="r")
        ax2.set_ylim(0, 100)
    ax1.set_title(describe(s.provenance), fontsize=8)
    save(fig, "curve")
else:
    X, Y = np.meshgrid(x, y)
    Zm = np.ma.masked_invalid(Z)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5), constrained_layout=True)
    shade_missing(ax1, x, y, Z)
    cs = ax1.contour(X, Y, Zm, cmap="summer", levels=LEVELS)
    ax1.clabel(cs, inline=1, fontsize=8)
    ax1.set_title(METRIC + ": contour lines")
    shade_missing(ax2, x, y, Z)
    cf = ax2.contourf(X, Y, Zm, cmap="summer", levels=LEVELS, extend="both")
    fig.colorbar(cf, ax=ax2, label=METRIC)
    ax2.set_title(METRIC + ": filled contours")
    for ax in (ax1, ax2):
        ax.set_xlabel("α (x direction)")
        ax.set_ylabel("β (y direction)")
    fig.suptitle(describe(s.provenance), fontsize=9)
    save(fig, "contour")
plt.show()"""),
    (MD, r"""## 3D surface

The reference's `_3dsurface.pdf`: `plot_surface` with the `coolwarm` map. The
reference builds the axes with `Axes3D(fig)`, which matplotlib 3.4 and later no
longer adds to the figure, so its 3D plots come out blank there;
`add_subplot(projection="3d")` is the working form. The loss is clipped at 10, the
top of the contour levels, so that the blow-up far from the centre does not
flatten the basin."""),
    (CODE, r"""if y is not None:
    fig = plt.figure(figsize=(7, 5))
    ax = fig.add_subplot(projection="3d")
    Zc = np.ma.masked_invalid(np.minimum(Z, 10.0))
    surf = ax.plot_surface(X, Y, Zc, cmap=cm.coolwarm, linewidth=0, antialiased=False)
    fig.colorbar(surf, shrink=0.5, aspect=10, label=METRIC)
    ax.set_xlabel("α")
    ax.set_ylabel("β")
    ax.set_zlabel(METRIC)
    ax.view_init(elev=30, azim=-60)
    ax.set_title(describe(s.provenance), fontsize=8)
    save(fig, "surface3d")
    plt.show()"""),
    (MD, r"""## Comparison

Side-by-side contour panels on one set of levels and one colour scale, as
`landscape compare` draws them, and its table of flatness numbers, which
`lg.compare` asks the tool for: the centre value (at the grid point nearest
(0, 0)), the mean rise of the metric over circles around the centre, the area and
widths of the basin below the centre value + 1 and the share of grid points where
the surface curves down (see `landscape compare -h`). With no `COMPARE` files the
surface's loss metrics (train and test, where both were computed) are compared."""),
    (CODE, r"""surfaces = [s] + [lg.read(p) for p in COMPARE]
if len(surfaces) > 1:
    names = [t.provenance.get("model", {}).get("name") or os.path.basename(t.path) for t in surfaces]
    names = [n if names.count(n) == 1 else "{} ({})".format(n, os.path.basename(t.path)) for n, t in zip(names, surfaces)]
    panels = [(n, t.x, t.y, t.grid(METRIC)) for n, t in zip(names, surfaces)]
    table = lg.compare(surfaces, metric=METRIC, names=names)
else:
    losses = [m for m in s.metrics if m.endswith("_loss")] or [METRIC]
    panels = [(m, x, y, s.grid(m)) for m in losses]
    table = [s.flatness(metric=m) for m in losses]

if y is None:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, px, _, pz in panels:
        ax.plot(px, pz, label=name)
    ax.set_xlabel("α")
    ax.set_ylabel(METRIC)
    ax.legend()
else:
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels) + 1, 4), squeeze=False, constrained_layout=True)
    for ax, (name, px, py, pz) in zip(axes[0], panels):
        shade_missing(ax, px, py, pz)
        cs = ax.contour(*np.meshgrid(px, py), np.ma.masked_invalid(pz), levels=LEVELS, cmap="viridis", vmin=LEVELS[0], vmax=LEVELS[-1])
        ax.clabel(cs, inline=1, fontsize=7)
        ax.set_title(name)
        ax.set_xlabel("α")
        ax.set_ylabel("β")
    fig.colorbar(cs, ax=list(axes[0]), label=METRIC)
save(fig, "compare")
plt.show()

columns = ["surface", "metric", "centre"] + [k for k in table[0] if k.startswith("rise_r")] + [
    "basin_area", "width_x", "width_y", "negative_curvature_share"]
print("  ".join("{:>14}".format(c) for c in columns))
for row in table:
    print("  ".join("{:>14}".format(row[c] if isinstance(row[c], str) else "{:.4g}".format(row[c])) for c in columns))"""),
    (MD, r"""## Without the package: pandas, DuckDB, Polars

The Parquet file needs nothing from this repository. With pandas and pyarrow:

```python
import json
import pandas as pd
import pyarrow.parquet as pq

df = pd.read_parquet("surface.parquet")
prov = json.loads(pq.read_schema("surface.parquet").metadata[b"landscape.provenance"])
Z = df.pivot(index="y", columns="x", values="train_loss")   # Z[y][x]
```

Without pyarrow, `landscape convert surface.parquet --to csv` writes `surface.csv`,
with integer grid indices `i` and `j` beside `x` and `y`, and the provenance in
`surface.csv.provenance.json`:

```python
df = pd.read_csv("surface.csv", float_precision="round_trip")
prov = json.load(open("surface.csv.provenance.json"))
Z = df.pivot(index="j", columns="i", values="train_loss")   # no float equality
```

DuckDB (SQL) reads the Parquet file and its metadata, or the CSV and its provenance:

```sql
SELECT x, y, train_loss FROM 'surface.parquet' ORDER BY train_loss LIMIT 5;
SELECT decode(value)::JSON ->> '$.model.name' FROM parquet_kv_metadata('surface.parquet')
  WHERE decode(key) = 'landscape.provenance';
SELECT j, list(train_loss ORDER BY i) AS row FROM read_csv('surface.csv') GROUP BY j ORDER BY j;
SELECT json ->> '$.directions.seed' FROM read_json_objects('surface.csv.provenance.json');
```

Polars:

```python
import json
import polars as pl

df = pl.read_parquet("surface.parquet")
prov = json.loads(pl.read_parquet_metadata("surface.parquet")["landscape.provenance"])
df = pl.read_csv("surface.csv")                  # or pl.read_ndjson("surface.jsonl")
prov = json.load(open("surface.csv.provenance.json"))
```"""),
]


HERE = os.path.dirname(os.path.abspath(__file__))

# The resolution of the figures saved as outputs: small enough to keep the
# notebook well under 1.5 MB, sharp enough to read the labels.
FIGURE_DPI = 80


def cell(kind, text):
    lines = text.split("\n")
    source = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    c = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == CODE:
        c["execution_count"] = None
        c["outputs"] = []
    return c


def build(cells=None):
    """The notebook, without outputs, as a dict; cells are (kind, source)
    pairs, CELLS by default."""
    nb = {
        "cells": [cell(k, t) for k, t in (CELLS if cells is None else cells)],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(nb["cells"]):
        c["id"] = "cell-{}".format(i)
    return nb


class CellError(Exception):
    """A code cell raised: cell is its id, output what it had printed, and
    traceback the traceback, as text."""

    def __init__(self, cell, output, traceback):
        super().__init__("cell {} failed".format(cell))
        self.cell, self.output, self.traceback = cell, output, traceback


class _Stream(io.TextIOBase):
    # A text stream that adds what is written to a cell's outputs, as Jupyter
    # does: one stream output per run of writes to the same stream.

    def __init__(self, outputs, name):
        self.outputs, self.name = outputs, name

    @property
    def encoding(self):
        return "utf-8"

    def writable(self):
        return True

    def write(self, s):
        if not s:
            return 0
        last = self.outputs[-1] if self.outputs else None
        if last and last["output_type"] == "stream" and last["name"] == self.name:
            last["text"] += s
        else:
            self.outputs.append({"output_type": "stream", "name": self.name, "text": s})
        return len(s)


def _lines(text):
    return text.splitlines(keepends=True)


def _figure(fig):
    # fig as a display_data output: a PNG without the Software chunk, so that
    # the same figure gives the same bytes.
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight", metadata={"Software": None})
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": [repr(fig)]},
        "metadata": {},
    }


def _result(value, count):
    # The value of a cell's last expression, as Jupyter shows it.
    data = {"text/plain": _lines(repr(value))}
    html = getattr(value, "_repr_html_", None)
    if callable(html):
        h = html()
        if h is not None:
            data["text/html"] = _lines(h)
    return {"output_type": "execute_result", "execution_count": count, "data": data, "metadata": {}}


def _run(source, filename, ns, outputs, count):
    # Runs one cell's source in ns; the value of a last expression, unless
    # the cell ends with ";", becomes an execute_result.
    linecache.cache[filename] = (len(source), None, _lines(source), filename)
    tree = ast.parse(source, filename)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr) and not source.rstrip().endswith(";"):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), ns)
    if last is not None:
        value = eval(compile(last, filename, "eval"), ns)
        if value is not None:
            outputs.append(_result(value, count))


def execute(nb, cwd=HERE):
    """Runs nb's code cells in order, in one namespace, with cwd as the
    working directory and matplotlib's Agg backend, and returns a copy of nb
    with their outputs: what they print (stream), the value of a last
    expression (execute_result) and each figure that plt.show shows or that
    is still open at the end of the cell (display_data, a PNG). Raises
    CellError if a cell raises; nb itself is left as it was."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    nb = copy.deepcopy(nb)
    ns = {"__name__": "__main__", "__builtins__": builtins}
    outputs = []

    def show(*args, **kwargs):
        for num in plt.get_fignums():
            fig = plt.figure(num)
            outputs.append(_figure(fig))
            plt.close(fig)

    plt.close("all")
    old_show, old_cwd = plt.show, os.getcwd()
    plt.show = show
    os.chdir(cwd)
    try:
        count = 0
        for c in nb["cells"]:
            source = "".join(c["source"])
            if c["cell_type"] != CODE or not source.strip():
                continue
            count += 1
            outputs = []
            filename = "<{}>".format(c.get("id", "cell"))
            stdout, stderr = sys.stdout, sys.stderr
            sys.stdout, sys.stderr = _Stream(outputs, "stdout"), _Stream(outputs, "stderr")
            try:
                _run(source, filename, ns, outputs, count)
                show()
            except (Exception, SystemExit):
                sys.stdout, sys.stderr = stdout, stderr
                typ, value, tb = sys.exc_info()
                # Leave out this script's frames, down to the cell's.
                t = tb
                while t is not None and t.tb_frame.f_code.co_filename != filename:
                    t = t.tb_next
                text = "".join(traceback.format_exception(typ, value, t or tb))
                printed = "".join(o["text"] for o in outputs if o["output_type"] == "stream")
                raise CellError(c.get("id", "?"), printed, text) from None
            finally:
                sys.stdout, sys.stderr = stdout, stderr
            for o in outputs:
                if o["output_type"] == "stream":
                    o["text"] = _lines(o["text"])
            c["execution_count"] = count
            c["outputs"] = outputs
    finally:
        plt.show = old_show
        plt.close("all")
        os.chdir(old_cwd)
    return nb


def write(nb, path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description="Writes landscape.ipynb from the cells kept in this script.")
    ap.add_argument("--execute", action="store_true",
                    help="run the code cells (in the notebooks/ folder) and save their outputs in the notebook")
    ap.add_argument("out", nargs="?", default=os.path.join(HERE, "landscape.ipynb"),
                    help="the notebook to write (default: landscape.ipynb beside this script)")
    args = ap.parse_args(argv)
    nb = build()
    if args.execute:
        try:
            nb = execute(nb, HERE)
        except CellError as e:
            sys.stderr.write("make_notebook.py: {} failed; nothing written\n".format(e.cell))
            if e.output:
                sys.stderr.write("It had printed:\n" + e.output + ("" if e.output.endswith("\n") else "\n"))
            sys.stderr.write(e.traceback)
            sys.exit(1)
    write(nb, args.out)
    if args.execute:
        outputs = [o for c in nb["cells"] for o in c.get("outputs", [])]
        figures = sum(o["output_type"] == "display_data" for o in outputs)
        print("wrote {} ({} outputs, {} figures, {:.0f} kB)".format(
            args.out, len(outputs), figures, os.path.getsize(args.out) / 1000))
    else:
        print("wrote", args.out)


if __name__ == "__main__":
    main()
