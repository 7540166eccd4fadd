"""Running the landscape binary."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import tempfile
import weakref
from pathlib import Path

# The checkout's bin/landscape, where `go build -o bin/ ./cmd/landscape`
# puts it, for a package used in place (PYTHONPATH=python) or installed
# in editable mode.
_CHECKOUT_BIN = Path(__file__).resolve().parents[2] / "bin" / "landscape"


class LandscapeError(RuntimeError):
    """The binary exited with an error: command is the command line,
    returncode its exit status (2 for a mistake in the command line, 1 for
    a failure, 130 when interrupted) and stderr what it printed."""

    def __init__(self, args, returncode, stderr):
        self.command = list(args)
        self.returncode = returncode
        self.stderr = stderr
        msg = (stderr or "").strip() or "no message"
        super().__init__("{} exited with status {}: {}".format(" ".join(map(str, args[:2])), returncode, msg))


def binary() -> str:
    """The path of the landscape binary: $LANDSCAPE_BIN if set, else
    `landscape` on PATH, else the checkout's bin/landscape. Raises
    FileNotFoundError saying how to get one if there is none."""
    env = os.environ.get("LANDSCAPE_BIN")
    if env:
        if not os.access(env, os.X_OK):
            raise FileNotFoundError("LANDSCAPE_BIN={} is not an executable file".format(env))
        return env
    found = shutil.which("landscape")
    if found:
        return found
    if os.access(_CHECKOUT_BIN, os.X_OK):
        return str(_CHECKOUT_BIN)
    raise FileNotFoundError(
        "the landscape binary was not found: set LANDSCAPE_BIN, put it on PATH "
        "(go install ./cmd/landscape) or build it into the checkout's bin/ "
        "(CGO_ENABLED=0 go build -o bin/ ./cmd/landscape)")


def run(*args) -> str:
    """Runs the binary with args (strings or paths) and returns what it
    printed on standard output; raises LandscapeError if it fails."""
    cmd = [binary()] + [os.fspath(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        raise LandscapeError(cmd, p.returncode, p.stderr)
    return p.stdout


def _flag_value(name, value):
    if isinstance(value, (list, tuple)):
        # An axis is min:max:num; every other list is comma-separated.
        sep = ":" if name in ("x", "y") else ","
        return sep.join(_flag_value(name, v) for v in value)
    if isinstance(value, float):
        # float() first: NumPy 2's float64 is a float whose repr is
        # "np.float64(-1.0)".
        return repr(float(value))
    return os.fspath(value) if isinstance(value, os.PathLike) else str(value)


def flags(**kwargs) -> list:
    """Command-line flags from keyword arguments, as surface() passes
    them: sample_seed=1 is --sample-seed=1, quiet=True is --quiet,
    overwrite=False is --overwrite=false, a None value is left out; x and
    y as (min, max, num) are min:max:num and other sequences are joined
    with commas (split=("train", "test") is --split=train,test)."""
    out = []
    for name, value in kwargs.items():
        if value is None:
            continue
        flag = "--" + name.replace("_", "-")
        if value is True:
            out.append(flag)
        elif value is False:
            out.append(flag + "=false")
        else:
            out.append(flag + "=" + _flag_value(name, value))
    return out


def surface(out=None, **kwargs):
    """Runs `landscape surface` with the flags that kwargs give (see
    flags(); quiet is on unless quiet=False) and returns the Surface it
    wrote to out. With out None the surface goes to a temporary folder
    that lives as long as the returned Surface. The whole grid is
    computed (shard="0/1"), inside a Slurm array or Indexed Job too,
    unless shard="i/n" asks for a shard: its part file in the folder out
    is then returned.

        >>> s = surface(model="resnet20", checkpoint="ckpt.pt", data="npz:data.npz",
        ...             x=(-1, 1, 11), y=(-1, 1, 11), samples=1000)
    """
    from ._surface import read

    tmp = None
    if out is None:
        tmp = tempfile.mkdtemp(prefix="landscape-")
        out = os.path.join(tmp, "surface.parquet")
    kwargs.setdefault("quiet", True)
    kwargs.setdefault("shard", "0/1")
    try:
        run("surface", *flags(out=out, **kwargs))
        s = read(_written(out, kwargs["shard"]))
    except BaseException:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if tmp:
        weakref.finalize(s, shutil.rmtree, tmp, True)
    return s


def _written(out, shard):
    """The file `landscape surface --out out --shard shard` writes: out
    itself for the whole grid (unless out is a folder), else its part."""
    index, count = (int(v) for v in str(shard).split("/"))
    if count == 1 and not os.path.isdir(out):
        return out
    return os.path.join(out, "part-{:05d}-of-{:05d}.parquet".format(index, count))


def _parse_cell(name, text):
    if name in ("surface", "metric"):
        return text
    if text in ("true", "false"):
        return text == "true"
    if name == "curvature_points":
        return int(text)
    return float(text)  # NaN, +Inf and -Inf too


def compare(surfaces, metric=None, radii=None, threshold=None, rise=None, names=None):
    """The flatness of surfaces as `landscape compare` computes it: one
    dict per surface, with the columns of its compare_METRIC.csv (surface,
    metric, centre_x, centre_y, centre, rise_r<radius> for each radius,
    threshold, basin_fraction, basin_area, width_x, width_x_at_edge,
    width_y, width_y_at_edge, negative_curvature_share, curvature_points).
    surfaces are Parquet paths or Surfaces read from Parquet; metric,
    radii, threshold and rise are the flags of the same names (None: the
    tool's defaults), names labels the surfaces."""
    if isinstance(surfaces, (str, os.PathLike)) or hasattr(surfaces, "parquet"):
        surfaces = [surfaces]
    paths = []
    for s in surfaces:
        p = getattr(s, "parquet", s)
        if p is None:
            raise ValueError("{!r} was not read from a Parquet file; landscape compare reads Parquet".format(s))
        paths.append(os.fspath(p))
    with tempfile.TemporaryDirectory(prefix="landscape-compare-") as tmp:
        run("compare", *paths, *flags(out=tmp, table_only=True, metric=metric, radii=radii,
                                       threshold=threshold, rise=rise, names=names))
        tables = [f for f in os.listdir(tmp) if f.startswith("compare_") and f.endswith(".csv")]
        if len(tables) != 1:
            raise RuntimeError("landscape compare wrote {} tables in {}, want one".format(len(tables), tmp))
        with open(os.path.join(tmp, tables[0]), newline="") as f:
            rows = list(csv.DictReader(f))
    return [{k: _parse_cell(k, v) for k, v in row.items()} for row in rows]
