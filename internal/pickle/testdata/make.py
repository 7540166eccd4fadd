#!/usr/bin/python3
"""Regenerates the pickle fixtures of internal/pickle.

Run from this folder with Debian's python3-numpy: /usr/bin/python3 make.py

misc_pN.pkl holds the same object pickled at protocol N; misc.txt is that
object in the canonical form the Go test renders decoded values in (see
canon below), so the test needs no Python.
cifar_*.pkl mimic CIFAR-10 python batches: cifar_py2_pN.pkl as Python 2's
cPickle wrote them (str is bytes: SHORT_BINSTRING/BINSTRING at protocol 2,
STRING at protocol 0), cifar_py3_pN.pkl as Python 3 writes them.
evil_pN.pkl call os.system when loaded by Python's pickle; never load them
with it.
"""
import io
import os
import pickle
import struct
from collections import OrderedDict

import numpy as np


def canon(v):
    if v is None or v is True or v is False:
        return repr(v)
    if isinstance(v, int):
        return "i:%d" % v
    if isinstance(v, float):
        return "f:%016x" % struct.unpack("<Q", struct.pack("<d", v))[0]
    if isinstance(v, str):
        return "s:" + v.encode("utf-8").hex()
    if isinstance(v, (bytes, bytearray)):
        return "b:" + bytes(v).hex()
    if isinstance(v, tuple):
        return "(" + ",".join(canon(e) for e in v) + ")"
    if isinstance(v, list):
        return "[" + ",".join(canon(e) for e in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(canon(k) + ":" + canon(x) for k, x in v.items()) + "}"
    if isinstance(v, frozenset):
        return "frozenset{" + ",".join(canon(e) for e in v) + "}"
    if isinstance(v, set):
        return "set{" + ",".join(canon(e) for e in v) + "}"
    if isinstance(v, np.ndarray):
        a = np.ascontiguousarray(v).astype(v.dtype.newbyteorder("<"))
        shape = "x".join(str(d) for d in v.shape)
        return "nd:%s:%s:%s" % (v.dtype.name, shape, a.tobytes().hex())
    if isinstance(v, np.generic):
        return canon(v.item())
    raise TypeError(type(v))


shared = [1, 2]
misc = OrderedDict([
    ("none", None), ("true", True), ("false", False),
    ("ints", [0, 1, -1, 255, 256, 65535, 65536, -2**31, 2**31, 2**63 - 1, -2**63, 2**64, -2**100]),
    ("floats", [0.0, -0.0, 1.5, -2.25e-300, 1e300, float("inf")]),
    ("str", ["", "abc", "caf\u00e9", "\u4e2d\u6587", "line\nbreak\\", "\U0001f600"]),
    ("bytes", [b"", b"\x00\xff\n'\"\\", bytes(range(256))]),
    ("bytearray", bytearray(b"ba")),
    ("tuples", [(), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4)]),
    ("nested", {(1, "a"): {"k": [1.0, (None,)]}, 2: "two"}),
    ("shared", (shared, shared)),
    ("set", {7}),
    ("frozenset", frozenset([8])),
    ("np_f32", np.arange(6, dtype=np.float32).reshape(2, 3) / 4),
    ("np_f64_be", np.array([1.5, -2.0], dtype=">f8")),
    ("np_i64_fortran", np.asfortranarray(np.arange(6, dtype=np.int64).reshape(2, 3))),
    ("np_u8", np.arange(5, dtype=np.uint8)),
    ("np_scalar_f64", np.float64(0.25)),
    ("np_scalar_i64", np.int64(-3)),
])
with open("misc.txt", "w") as fh:
    fh.write(canon(misc) + "\n")
for proto in range(6):
    with open("misc_p%d.pkl" % proto, "wb") as fh:
        pickle.dump(misc, fh, protocol=proto)


class Py2Pickler(pickle._Pickler):
    """Writes bytes as Python 2 str opcodes, as cPickle did."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2str(self, obj):
        if self.proto == 0:
            self.write(b"S" + repr(obj)[1:].encode("ascii") + b"\n")
        elif len(obj) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(obj)]) + obj)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2str


rng = np.random.default_rng(0)
labels = [int(x) for x in rng.integers(0, 10, size=4)]
data = rng.integers(0, 256, size=(4, 3 * 4 * 4), dtype=np.uint8)
with open("cifar.txt", "w") as fh:
    fh.write(canon({"labels": labels, "data": data}) + "\n")
batch2 = {b"batch_label": b"training batch 1 of 5", b"labels": labels, b"data": data,
          b"filenames": [b"a.png", b"b.png", b"c.png", b"d.png"]}
for proto in (0, 2):
    buf = io.BytesIO()
    Py2Pickler(buf, protocol=proto).dump(batch2)
    with open("cifar_py2_p%d.pkl" % proto, "wb") as fh:
        fh.write(buf.getvalue())
batch3 = {"batch_label": "training batch 1 of 5", "labels": labels, "data": data,
          "filenames": ["a.png", "b.png", "c.png", "d.png"]}
for proto in (2, 4, 5):
    with open("cifar_py3_p%d.pkl" % proto, "wb") as fh:
        pickle.dump(batch3, fh, protocol=proto)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


for proto in (0, 2, 4):
    with open("evil_p%d.pkl" % proto, "wb") as fh:
        pickle.dump({"state_dict": Evil()}, fh, protocol=proto)
