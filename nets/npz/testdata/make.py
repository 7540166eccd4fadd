#!/usr/bin/python3
"""Regenerates the .npz checkpoint fixtures of nets/npz.

Run from this folder with Debian's python3-numpy: /usr/bin/python3 make.py
Array i of a fixture holds arange(n)/8 - 1 in its dtype; the Go test checks
against that formula.
"""
import numpy as np


def vals(shape, dtype):
    n = int(np.prod(shape))
    return (np.arange(n) / 8 - 1).astype(dtype).reshape(shape)


arrays = {
    "conv1.weight": vals((2, 1, 2, 2), "<f4"),
    "conv1.bias": vals((2,), "<f8"),
    "bn1.weight": vals((2,), "<f2"),
    "bn1.num_batches_tracked": np.array(5, dtype="<i8"),
    "fc.weight": np.asfortranarray(vals((3, 2), "<f4")),
}
np.savez("state.npz", **arrays)
np.savez_compressed("state_compressed.npz", **arrays)
np.savez("object.npz", bad=np.array([{"a": 1}], dtype=object))
