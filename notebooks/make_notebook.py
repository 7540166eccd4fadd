#!/usr/bin/env python3
"""Writes landscape.ipynb, the notebook that reads a landscape Parquet surface
with pandas and draws the reference's figures with matplotlib.

The cells are kept here, as Python source, so that changes to them are
reviewable; run this script after editing them:

    python3 notebooks/make_notebook.py [--execute] [OUT.ipynb]

Without --execute it uses only the standard library and writes the notebook
without outputs. With --execute it also runs the code cells in order, in one
namespace, in the notebooks/ folder (the notebook's paths are relative to it),
with matplotlib's Agg backend, and saves what they print and the figures they
show as the cells' outputs, as Jupyter would; that needs pandas, pyarrow and
matplotlib, and the surfaces that the first code cell names (by default those
that `landscape demo` writes in the repository root). A cell that raises makes
the script exit non-zero with the traceback and write nothing.
notebook_test.go runs the code cells as a script where those are importable.
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
    (MD, r"""# Loss landscapes from Parquet

This notebook reads a surface written by `landscape surface`, `landscape merge` or
`landscape demo` with pandas, and redraws the figures of Li et al.'s reference
implementation with matplotlib: the contour plot, the 3D surface and a comparison
of several surfaces. It needs pandas, pyarrow and matplotlib.

The Parquet file is long-format, one row per grid point: columns `x`, `y` (null
for a 1D surface) and one column per metric (`train_loss`, `train_acc`, ...). Its
key-value metadata holds the run's provenance as JSON under
`landscape.provenance`.

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
    (CODE, r"""import json

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from matplotlib import cm
from matplotlib.colors import ListedColormap


def read_surface(path):
    # The table, and the provenance from the file's metadata.
    df = pd.read_parquet(path)
    meta = pq.read_schema(path).metadata or {}
    prov = json.loads(meta.get(b"landscape.provenance", b"{}"))
    return df, prov


def default_metric(df):
    metrics = [c for c in df.columns if c not in ("x", "y")]
    if "train_loss" in metrics:
        return "train_loss"
    return next((m for m in metrics if m.endswith("_loss")), metrics[0])


def to_grid(df, metric):
    # x, y and Z[y][x] as matplotlib's contour takes them; y is None in 1D.
    # Grid points missing from the file (a partial shard) become NaN.
    if df["y"].isna().all():
        d = df.sort_values("x")
        return d["x"].to_numpy(), None, d[metric].to_numpy()
    z = df.pivot(index="y", columns="x", values=metric).sort_index().sort_index(axis=1)
    return z.columns.to_numpy(), z.index.to_numpy(), z.to_numpy()


def describe(prov):
    m, d, dr = prov.get("model", {}), prov.get("data", {}), prov.get("directions", {})
    return "{} on {} {}; directions {} (seed {}, norm {}, ignore {})".format(
        m.get("name", "?"), d.get("name", "?"), "+".join(d.get("splits") or []),
        dr.get("kind", "?"), dr.get("seed", "?"), dr.get("norm", "?"), dr.get("ignore", "?"))


def save(fig, name):
    if OUT:
        os.makedirs(OUT, exist_ok=True)
        fig.savefig(os.path.join(OUT, name + ".png"), dpi=100, bbox_inches="tight")


df, prov = read_surface(SURFACE)
METRIC = METRIC or default_metric(df)
x, y, Z = to_grid(df, METRIC)
print(describe(prov))
print("{} points, metrics {}; {}: {}".format(
    len(df), [c for c in df.columns if c not in ("x", "y")], METRIC,
    "1D" if y is None else "{} x {} grid (Z[y][x] is {})".format(len(x), len(y), Z.shape)))
print("NaN or infinite {}: {} points".format(METRIC, int((~np.isfinite(Z)).sum())))
df.head()"""),
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
    if acc != METRIC and acc in df.columns:
        ax2 = ax1.twinx()
        ax2.plot(x, to_grid(df, acc)[2], "r-", label=acc)
        ax2.set_ylabel(acc, color="r")
        ax2.set_ylim(0, 100)
    ax1.set_title(describe(prov), fontsize=8)
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
    fig.suptitle(describe(prov), fontsize=9)
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
    ax.set_title(describe(prov), fontsize=8)
    save(fig, "surface3d")
    plt.show()"""),
    (MD, r"""## Comparison

Side-by-side contour panels on one set of levels and one colour scale, as
`landscape compare` draws them, and a few of its figures: the centre value (at the
grid point nearest (0, 0)), the mean rise of the metric over circles around the
centre (bilinear interpolation at 64 angles; NaN where the circle leaves the grid)
and the share of the grid below the centre value + 1. With no `COMPARE` files the
surface's loss metrics (train and test, where both were computed) are compared."""),
    (CODE, r"""def bilinear(x, y, Z, px, py):
    if not (x[0] <= px <= x[-1] and y[0] <= py <= y[-1]):
        return np.nan
    i = min(max(np.searchsorted(x, px) - 1, 0), len(x) - 2)
    j = min(max(np.searchsorted(y, py) - 1, 0), len(y) - 2)
    tx = (px - x[i]) / (x[i + 1] - x[i])
    ty = (py - y[j]) / (y[j + 1] - y[j])
    return ((1 - tx) * (1 - ty) * Z[j, i] + tx * (1 - ty) * Z[j, i + 1]
            + (1 - tx) * ty * Z[j + 1, i] + tx * ty * Z[j + 1, i + 1])


def summary(x, y, Z, radii=None):
    # Circles at a fifth, half and all of the grid's half-width, so that
    # they fit any grid (on the demo's, the radii `landscape demo` uses).
    if radii is None:
        half = min(x[-1] - x[0], y[-1] - y[0]) / 2
        radii = [round(f * half, 6) for f in (0.2, 0.5, 1.0)]
    ix, iy = np.abs(x).argmin(), np.abs(y).argmin()
    centre = Z[iy, ix]
    row = {"centre": centre}
    for r in radii:
        angles = 2 * np.pi * np.arange(64) / 64
        row["rise r={:g}".format(r)] = np.mean(
            [bilinear(x, y, Z, r * np.cos(a), r * np.sin(a)) for a in angles]) - centre
    row["grid share below centre+1 (%)"] = 100 * np.mean(np.isfinite(Z) & (Z < centre + 1))
    return row


panels = []
for path in [SURFACE] + COMPARE:
    d, p = read_surface(path)
    name = p.get("model", {}).get("name") or os.path.basename(path)
    panels.append((name, to_grid(d, METRIC)))
if len(panels) == 1:
    losses = [c for c in df.columns if c.endswith("_loss")]
    panels = [(m, to_grid(df, m)) for m in losses] or panels

if panels[0][1][1] is None:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, (px, _, pz) in panels:
        ax.plot(px, pz, label=name)
    ax.set_xlabel("α")
    ax.set_ylabel(METRIC)
    ax.legend()
else:
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels) + 1, 4), squeeze=False, constrained_layout=True)
    for ax, (name, (px, py, pz)) in zip(axes[0], panels):
        shade_missing(ax, px, py, pz)
        cs = ax.contour(*np.meshgrid(px, py), np.ma.masked_invalid(pz), levels=LEVELS, cmap="viridis", vmin=LEVELS[0], vmax=LEVELS[-1])
        ax.clabel(cs, inline=1, fontsize=7)
        ax.set_title(name)
        ax.set_xlabel("α")
        ax.set_ylabel("β")
    fig.colorbar(cs, ax=list(axes[0]), label=METRIC)
    table = pd.DataFrame([summary(px, py, pz) for _, (px, py, pz) in panels], index=[n for n, _ in panels])
    print(table.to_string(float_format=lambda v: "{:.4g}".format(v)))
save(fig, "compare")
plt.show()"""),
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
