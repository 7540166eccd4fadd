#!/usr/bin/python3
"""Regenerates the .npy and .npz fixtures of internal/npy.

Run from this folder with Debian's python3-numpy: /usr/bin/python3 make.py
Every value is deterministic; the Go tests check them against the formulas
below (element i of a float array is i/4 - 1, of an integer array i - 3).
"""
import numpy as np
from numpy.lib import format as npf


def f(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n) / 4 - 1).astype(dtype).reshape(shape)


def i(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n) - 3).astype(dtype).reshape(shape)


def save(name, arr, version=None):
    with open(name, "wb") as fh:
        npf.write_array(fh, arr, version=version, allow_pickle=False)


save("f4_le.npy", f((2, 3), "<f4"))
save("f8_be.npy", f((2, 3), ">f8"))
save("f2.npy", f((5,), "<f2"))
save("i4_be.npy", i((4,), ">i4"))
save("i8_scalar.npy", np.array(-7, dtype="<i8"))
save("u1.npy", np.arange(6, dtype=np.uint8).reshape(2, 3))
save("b1.npy", np.array([True, False, True]))
save("u2_be.npy", np.array([1, 256, 65535], dtype=">u2"))
save("empty.npy", np.zeros((0, 3), dtype="<f4"))
# Fortran order: the same logical values as f((2,3,4)) stored column-major.
save("f4_fortran.npy", np.asfortranarray(f((2, 3, 4), "<f4")))
save("i2_fortran.npy", np.asfortranarray(i((3, 2), "<i2")))
save("v2.npy", f((2, 3), "<f4"), version=(2, 0))
save("v3.npy", f((2, 3), "<f4"), version=(3, 0))

arrays = {"x": f((2, 3), "<f4"), "labels": i((4,), "<i8"), "img": np.arange(6, dtype=np.uint8)}
np.savez("stored.npz", **arrays)
np.savez_compressed("deflated.npz", **arrays)
