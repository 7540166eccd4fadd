#!/usr/bin/env python3
"""Writes landscape.ipynb, the notebook that reads a landscape Parquet surface
with pandas and draws the reference's figures with matplotlib.

The cells are kept here, as Python source, so that changes to them are
reviewable; run this script after editing them:

    python3 notebooks/make_notebook.py [OUT.ipynb]

It uses only the standard library and writes the notebook without outputs:
run it in Jupyter (with pandas, pyarrow and matplotlib installed) to get them.
notebook_test.go runs the code cells as a script where those are importable.
"""

import json
import os
import sys

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

To get a surface to look at, run `landscape demo` in the repository root (it
writes `landscape-demo/surface.parquet`), or point `SURFACE` below at your own.
Set `COMPARE` to other surfaces (paths separated by `:`) to compare them, and
`METRIC` to choose the metric; the same can be given in the environment
variables `LANDSCAPE_SURFACE`, `LANDSCAPE_COMPARE` and `LANDSCAPE_METRIC`."""),
    (CODE, r"""import os

SURFACE = os.environ.get("LANDSCAPE_SURFACE", "../landscape-demo/surface.parquet")
COMPARE = [p for p in os.environ.get("LANDSCAPE_COMPARE", "").split(os.pathsep) if p]
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


def summary(x, y, Z, radii=(0.25, 0.5, 1.0)):
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


def cell(kind, text):
    lines = text.split("\n")
    source = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    c = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == CODE:
        c["execution_count"] = None
        c["outputs"] = []
    return c


def main():
    nb = {
        "cells": [cell(k, t) for k, t in CELLS],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, c in enumerate(nb["cells"]):
        c["id"] = "cell-{}".format(i)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "landscape.ipynb")
    if len(sys.argv) > 1:
        path = sys.argv[1]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(nb, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", path)


if __name__ == "__main__":
    main()
