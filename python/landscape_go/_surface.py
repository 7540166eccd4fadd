"""Surfaces read from the files landscape writes."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile

import numpy as np

# The key of the provenance in a Parquet file's key-value metadata, and
# the suffix of the file beside a CSV or JSON lines export that holds it.
METADATA_KEY = "landscape.provenance"
PROVENANCE_SUFFIX = ".provenance.json"

_COORDS = ("x", "y", "i", "j")


class Surface:
    """A loss surface: the values of some metrics at the points of a 1D or
    2D grid, and the provenance of the run that computed them.

    Attributes:
        path: the file it was read from.
        parquet: that file if it is Parquet, else None (compare and
            flatness need one).
        provenance: the run's provenance, a dict (see the tool's README).
        metrics: the metric names in column order, e.g. ["train_loss",
            "train_acc"].
        x, y: the axes, the coordinates of the grid's columns and rows as
            numpy.linspace makes them; y is None for a 1D surface.
        i, j: for each point in the file, the index of its x on the x axis
            and of its y on the y axis (j is None in 1D).
        points_x, points_y: each point's coordinates (points_y NaN in 1D).
    """

    def __init__(self, path, provenance, metrics, i, j, values, points_x, points_y, parquet=None):
        self.path = os.fspath(path)
        self.parquet = parquet
        self.provenance = provenance
        self.metrics = list(metrics)
        self.i = np.asarray(i, dtype=np.int64)
        self.j = None if j is None else np.asarray(j, dtype=np.int64)
        self._values = {m: np.asarray(v, dtype=np.float64) for m, v in zip(self.metrics, values)}
        self.points_x = np.asarray(points_x, dtype=np.float64)
        self.points_y = np.asarray(points_y, dtype=np.float64)
        g = (provenance or {}).get("grid") or {}
        self.x = _axis(g.get("x"), self.i, self.points_x)
        self.y = None if self.j is None else _axis(g.get("y"), self.j, self.points_y)

    @property
    def is_1d(self) -> bool:
        """Whether the surface has no y axis."""
        return self.y is None

    @property
    def default_metric(self) -> str:
        """The metric the tool draws by default: train_loss, else the first
        *_loss metric, else the first."""
        if "train_loss" in self.metrics:
            return "train_loss"
        return next((m for m in self.metrics if m.endswith("_loss")), self.metrics[0] if self.metrics else "")

    def values(self, metric=None) -> np.ndarray:
        """The metric's value at each point, in file order (long format);
        the default metric if None."""
        metric = metric or self.default_metric
        try:
            return self._values[metric]
        except KeyError:
            raise KeyError("surface has no metric {!r} (it has {})".format(metric, self.metrics)) from None

    def grid(self, metric=None) -> np.ndarray:
        """The metric as a dense array: Z[j][i] of shape (len(y), len(x)),
        as matplotlib's contour(x, y, Z) takes it, or Z[i] in 1D. Grid
        points the file does not hold (a part file) are NaN, and so are
        NaN and infinite values that a CSV or JSON lines export left
        empty; from Parquet, infinities stay infinite."""
        v = self.values(metric)
        if self.is_1d:
            z = np.full(len(self.x), np.nan)
            z[self.i] = v
        else:
            z = np.full((len(self.y), len(self.x)), np.nan)
            z[self.j, self.i] = v
        return z

    def frame(self):
        """The points as a pandas DataFrame with the columns x, y, i, j and
        the metrics, one row per point, as pandas.read_csv reads the CSV
        export; the provenance is in its attrs["provenance"]. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Surface.frame needs pandas (Debian: apt-get install python3-pandas)") from e
        cols = {"x": self.points_x, "y": self.points_y, "i": self.i,
                "j": np.full(len(self.i), np.nan) if self.j is None else self.j}
        cols.update(self._values)
        df = pd.DataFrame(cols)
        df.attrs["provenance"] = self.provenance
        return df

    def flatness(self, metric=None, radii=None, threshold=None, rise=None) -> dict:
        """The flatness numbers of this surface as `landscape compare`
        computes them (see landscape_go.compare): centre value, rise over
        circles, basin area and widths, share of negative curvature. Needs
        the binary and a surface read from Parquet."""
        from ._tool import compare

        return compare([self], metric=metric, radii=radii, threshold=threshold, rise=rise)[0]

    def __len__(self):
        return len(self.i)

    def __repr__(self):
        model = ((self.provenance or {}).get("model") or {}).get("name", "?")
        shape = "{}".format(len(self.x)) if self.is_1d else "{}x{}".format(len(self.x), len(self.y))
        return "<Surface {} {} grid, {} points, metrics {} from {}>".format(
            model, shape, len(self), self.metrics, self.path)


def _axis(spec, idx, coords):
    """An axis from the provenance's {"min", "max", "num"}, or, without
    one, from the coordinates of the points at each index."""
    if spec:
        return np.linspace(float(spec["min"]), float(spec["max"]), int(spec["num"]))
    n = int(idx.max()) + 1 if len(idx) else 0
    a = np.full(n, np.nan)
    a[idx] = coords
    return a


def read(path, engine="auto") -> Surface:
    """Reads the surface in path: a Parquet file of `landscape surface`,
    `merge` or `demo`, or a CSV (.csv) or JSON lines (.jsonl, .ndjson)
    export of `landscape convert` with its provenance file beside it.

    engine chooses how Parquet is read: "pyarrow", "landscape" (the binary
    converts it to CSV, so that NumPy is all that is needed) or "auto"
    (pyarrow if it is installed, else the binary)."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".csv":
        return _read_csv(path)
    if ext in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if engine == "auto":
        try:
            import pyarrow.parquet  # noqa: F401
            engine = "pyarrow"
        except ImportError:
            engine = "landscape"
    if engine == "pyarrow":
        return _read_parquet_pyarrow(path)
    if engine == "landscape":
        return _read_parquet_binary(path)
    raise ValueError("engine {!r}: want auto, pyarrow or landscape".format(engine))


def _provenance(path):
    side = path + PROVENANCE_SUFFIX
    try:
        with open(side, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def _number(text):
    return float(text) if text != "" else math.nan


def _from_columns(path, names, cols, provenance, parquet=None):
    # cols maps each name to a list; the metrics are the names other than
    # x, y, i and j, in order.
    metrics = [n for n in names if n not in _COORDS]
    for c in ("x", "i"):
        if c not in cols:
            raise ValueError("{}: no column {!r}; is it an export of landscape convert?".format(path, c))
    j = cols.get("j")
    g = (provenance or {}).get("grid")
    if g is not None:
        one_d = g.get("y") is None
    else:
        one_d = j is None or all(v is None for v in j)
    return Surface(
        path, provenance, metrics,
        i=cols["i"], j=None if one_d else j,
        values=[cols[m] for m in metrics],
        points_x=cols["x"],
        points_y=[math.nan if v is None else v for v in cols.get("y", [None] * len(cols["x"]))],
        parquet=parquet)


def _read_csv(path, parquet=None):
    with open(path, newline="", encoding="utf-8") as f:
        rows = csv.reader(f)
        names = next(rows)
        cols = {n: [] for n in names}
        lists = [cols[n] for n in names]
        for r in rows:
            for col, text in zip(lists, r):
                col.append(text)
    conv = {}
    for n, vals in cols.items():
        if n in ("i", "j"):
            conv[n] = [int(v) if v != "" else None for v in vals]
        elif n == "y":
            conv[n] = [float(v) if v != "" else None for v in vals]
        else:
            conv[n] = [_number(v) for v in vals]
    return _from_columns(path, names, conv, _provenance(path), parquet)


def _read_jsonl(path):
    names, cols = None, {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            obj = json.loads(line)
            if names is None:
                names = list(obj)
                cols = {n: [] for n in names}
            for n in names:
                cols[n].append(obj.get(n))
    names = names or []
    for n in names:
        if n not in ("i", "j", "y"):
            cols[n] = [math.nan if v is None else v for v in cols[n]]
    return _from_columns(path, names, cols, _provenance(path))


def _read_parquet_binary(path):
    from ._tool import run

    with tempfile.TemporaryDirectory(prefix="landscape-read-") as tmp:
        out = os.path.join(tmp, "surface.csv")
        run("convert", path, "--to=csv", "--out=" + out)
        s = _read_csv(out, parquet=path)
    s.path = path
    return s


def _read_parquet_pyarrow(path):
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = table.schema.metadata or {}
    raw = meta.get(METADATA_KEY.encode())
    if raw is None:
        raise ValueError("{}: no {} metadata; not a landscape surface".format(path, METADATA_KEY))
    provenance = json.loads(raw)
    cols = table.to_pydict()
    g = provenance.get("grid") or {}
    cols["i"] = _indices(g.get("x"), cols["x"])
    if g.get("y"):
        cols["j"] = _indices(g["y"], cols["y"])
    names = ["x", "y", "i", "j"] + [n for n in table.column_names if n not in _COORDS]
    for n in names[4:]:
        cols[n] = [math.nan if v is None else v for v in cols[n]]
    return _from_columns(path, names, cols, provenance, parquet=path)


def _indices(spec, coords):
    # The index of each coordinate on the axis {"min", "max", "num"}, as
    # the tool matches them (it checks that they are on the grid).
    lo, hi, n = float(spec["min"]), float(spec["max"]), int(spec["num"])
    if n == 1:
        return [0] * len(coords)
    return [int(round((c - lo) / (hi - lo) * (n - 1))) for c in coords]
