#!/usr/bin/python3
"""Regenerates the safetensors fixtures of nets/safetensors.

Run from this folder with Debian's python3-numpy: /usr/bin/python3 make.py

The files are written by the small writer below, which follows the format
description (8-byte little-endian header length, JSON header, data) rather
than any library, with tensors whose data order differs from their header
order. expected.json lists the tensors in data order with their values as
float32 holds them.
"""
import json
import struct

import numpy as np


def write(path, tensors, metadata=None, pad=True):
    header, blobs, off = {}, [], 0
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, arr, code in tensors:
        b = np.ascontiguousarray(arr).tobytes()
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    # Write the header entries in reverse name order so that the JSON order
    # is not the data order.
    ordered = {}
    if "__metadata__" in header:
        ordered["__metadata__"] = header.pop("__metadata__")
    for k in sorted(header, reverse=True):
        ordered[k] = header[k]
    h = json.dumps(ordered).encode()
    if pad:
        h += b" " * (-len(h) % 8)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def bf16(a):
    return (np.asarray(a, dtype="<f4").view("<u4") >> 16).astype("<u2")


f = (np.arange(12, dtype="<f4") / 8 - 0.5)
tensors = [
    ("conv.weight", f.reshape(1, 3, 2, 2), "F32"),
    ("bn.bias", np.array([0.5, -1.25], dtype="<f8"), "F64"),
    ("bn.weight", np.array([1, 2, 3], dtype="<f2"), "F16"),
    ("bf", bf16([1.5, -2.0, 3.0]), "BF16"),
    ("bn.num_batches_tracked", np.array(7, dtype="<i8"), "I64"),
    ("mask", np.array([True, False]), "BOOL"),
    ("ids", np.array([[1, -2], [3, -4]], dtype="<i4"), "I32"),
    ("bytes", np.array([0, 255], dtype="u1"), "U8"),
    ("empty", np.zeros((0, 4), dtype="<f4"), "F32"),
]
write("mixed.safetensors", tensors, {"format": "pt", "note": "caf\u00e9"})
write("nometa.safetensors", tensors[:2], pad=False)
write("direction.safetensors", [("x.conv.weight", f.reshape(1, 3, 2, 2), "F32"),
                                ("y.conv.weight", -f.reshape(1, 3, 2, 2), "F32")],
      {"kind": "random", "seed": "7"})

expected = {}
for name, ts in (("mixed.safetensors", tensors), ("nometa.safetensors", tensors[:2])):
    out = []
    for tname, arr, code in ts:
        vals = arr.astype("<f4") if code != "BF16" else (arr.astype("<u4") << 16).view("<f4")
        dt = {"F32": "float32", "F64": "float64", "F16": "float16", "BF16": "bfloat16", "I64": "int64",
              "BOOL": "bool", "I32": "int32", "U8": "uint8"}[code]
        out.append({"name": tname, "shape": list(arr.shape), "dtype": dt,
                    "data": [float(v) for v in vals.reshape(-1)]})
    expected[name] = out
with open("expected.json", "w") as fh:
    json.dump(expected, fh, indent=1)
