"""Run the landscape binary and read the loss surfaces it writes.

landscape (github.com/landscape-go/landscape) computes loss landscapes of
neural networks, the method of Li et al. 2018, and writes them as Parquet,
one row per grid point with the run's provenance in the file's metadata.
This package runs it and reads its files as NumPy arrays:

    >>> import landscape_go as lg
    >>> s = lg.read("resnet56.parquet")        # or the .csv / .jsonl of `landscape convert`
    >>> Z = s.grid("train_loss")               # Z[j][i], as matplotlib's contour takes it
    >>> s.x, s.y                               # the axes (y is None in 1D)
    >>> s.provenance["directions"]["seed"]
    >>> s.flatness()                           # the numbers of `landscape compare`
    >>> s.frame()                              # a pandas DataFrame, where pandas is installed

    >>> s = lg.surface(model="resnet20", checkpoint="ckpt.pt", data="cifar10:data/",
    ...                x=(-1, 1, 21), y=(-1, 1, 21), out="s.parquet")

Only NumPy is needed. A Parquet file is read with pyarrow when it is
installed and otherwise converted to CSV by the binary; pandas is needed
only for Surface.frame. The numbers that compare surfaces (flatness) are
computed by the tool, never here, so that they are the ones its tables
and figures show.
"""

from ._surface import Surface, read
from ._tool import LandscapeError, binary, compare, flags, run, surface

__all__ = ["LandscapeError", "Surface", "binary", "compare", "flags", "read", "run", "surface"]
__version__ = "0.1.0"
