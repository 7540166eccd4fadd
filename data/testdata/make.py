#!/usr/bin/python3
"""Regenerates the fixtures of the data package's tests.

Run it from anywhere with a Python that has NumPy, PyTorch and torchvision
(Debian: python3-numpy, python3-torch, python3-torchvision):

    /usr/bin/python3 data/testdata/make.py

It writes, next to itself:

  cifar10/cifar-10-batches-bin/   data_batch_1..5.bin, test_batch.bin  (binary layout)
  cifar10/cifar-10-batches-py/    data_batch_1..5, test_batch, batches.meta
                                  (Python layout, pickled as Python 2 pickled
                                  the real files: protocol 2, str as BINSTRING)
  cifar10-p2/cifar-10-batches-py/test_batch
                                  the same test batch pickled by Python 3 with
                                  protocol 2 and bytes keys
  cifar10-p4/cifar-10-batches-py/test_batch
                                  the same test batch pickled by Python 3 with
                                  protocol 4 (its default) and str keys
  cifar100/cifar-100-binary/      train.bin, test.bin
  cifar100/cifar-100-python/      train, test, meta (Python 2 style)
  bad/*/test_batch                malformed CIFAR-10 pickles for the error tests
  expected.npz                    what torchvision makes of them, and of the
                                  Fashion-MNIST test split installed by
                                  Debian's dataset-fashion-mnist package

The CIFAR files are tiny and random (a fixed seed), with the same records in
both layouts: CIFAR-10 has one record per training batch and two test
records, CIFAR-100 three training and two test records. The first test
record of each holds every byte value 0..255 in every channel, so the
fixture pins the whole ToTensor+Normalize table.

The expected values come from torchvision's own dataset classes (CIFAR10,
CIFAR100, FashionMNIST) with transforms.Compose([ToTensor(), Normalize(mean,
std)]) and the constants data.DefaultNorm documents.

About the pickles: the real CIFAR Python files were written by Python 2's
cPickle with protocol 2, where a str (the dict keys, and the ndarray's raw
data) is a SHORT_BINSTRING or BINSTRING opcode; Python 3 reads those keys as
str with encoding="latin1" (torchvision) or as bytes with encoding="bytes"
(b'data', the CIFAR web page's recipe). Python 3 cannot write BINSTRING
itself: with protocol 2 it writes a bytes object as a call
_codecs.encode(<unicode>, 'latin1'), and with protocol 3 or later as
SHORT_BINBYTES/BINBYTES. PyPickler2 below subclasses the pure-Python pickler
to write BINSTRING as Python 2 did; the -p2 and -p4 variants are what a
Python 3 user re-pickling the data would produce.
"""

import gzip
import io
import os
import pickle
import shutil
import struct
import sys
import tempfile

import numpy as np
import torch
import torchvision
from torchvision import transforms
from torchvision.datasets import CIFAR10, CIFAR100, FashionMNIST

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION = "/usr/share/datasets/fashion-mnist"

CIFAR10_MEAN = [x / 255.0 for x in [125.3, 123.0, 113.9]]
CIFAR10_STD = [x / 255.0 for x in [63.0, 62.1, 66.7]]
CIFAR100_MEAN = [x / 255.0 for x in [129.3, 124.1, 112.4]]
CIFAR100_STD = [x / 255.0 for x in [68.2, 65.4, 70.4]]
FASHION_MEAN, FASHION_STD = [0.2860], [0.3530]


class PyPickler2(pickle._Pickler):
    """Writes bytes and str as Python 2's str: SHORT_BINSTRING/BINSTRING."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2str(self, obj):
        data = obj.encode("latin1") if isinstance(obj, str) else bytes(obj)
        n = len(data)
        if n < 256:
            self.write(pickle.SHORT_BINSTRING + struct.pack("<B", n) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", n) + data)
        self.memoize(obj)

    dispatch[bytes] = save_py2str
    dispatch[str] = save_py2str


def dump_py2(path, obj):
    buf = io.BytesIO()
    PyPickler2(buf, protocol=2).dump(obj)
    write(path, buf.getvalue())


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def records(rng, n, classes, coarse=None):
    """n random images (n x 3072 uint8) and labels; image 0 holds 0..255."""
    x = rng.randint(0, 256, size=(n, 3072)).astype(np.uint8)
    x[0] = np.tile(np.arange(256, dtype=np.uint8), 12)
    y = rng.randint(0, classes, size=n).tolist()
    c = rng.randint(0, coarse, size=n).tolist() if coarse else None
    return x, y, c


def cifar10(rng):
    root = os.path.join(HERE, "cifar10")
    shutil.rmtree(root, ignore_errors=True)
    batches = {f"data_batch_{i}": records(rng, 1, 10) for i in range(1, 6)}
    batches["test_batch"] = records(rng, 2, 10)
    for name, (x, y, _) in batches.items():
        rec = b"".join(bytes([l]) + img.tobytes() for img, l in zip(x, y))
        write(os.path.join(root, "cifar-10-batches-bin", name + ".bin"), rec)
        d = {
            "batch_label": f"synthetic {name}",
            "labels": y,
            "data": x,
            "filenames": [f"img_{i}.png" for i in range(len(y))],
        }
        dump_py2(os.path.join(root, "cifar-10-batches-py", name), d)
    meta = {"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": 1, "num_vis": 3072}
    dump_py2(os.path.join(root, "cifar-10-batches-py", "batches.meta"), meta)

    x, y, _ = batches["test_batch"]
    for variant, proto, key in (("cifar10-p2", 2, lambda k: k.encode()), ("cifar10-p4", 4, str)):
        vroot = os.path.join(HERE, variant)
        shutil.rmtree(vroot, ignore_errors=True)
        d = {key("batch_label"): key("synthetic test_batch"), key("labels"): y, key("data"): x}
        write(os.path.join(vroot, "cifar-10-batches-py", "test_batch"), pickle.dumps(d, protocol=proto))


def cifar100(rng):
    root = os.path.join(HERE, "cifar100")
    shutil.rmtree(root, ignore_errors=True)
    for name, n in (("train", 3), ("test", 2)):
        x, y, c = records(rng, n, 100, coarse=20)
        rec = b"".join(bytes([cl, fl]) + img.tobytes() for img, fl, cl in zip(x, y, c))
        write(os.path.join(root, "cifar-100-binary", name + ".bin"), rec)
        d = {
            "filenames": [f"img_{i}.png" for i in range(n)],
            "batch_label": f"synthetic {name}",
            "fine_labels": y,
            "coarse_labels": c,
            "data": x,
        }
        dump_py2(os.path.join(root, "cifar-100-python", name), d)
    meta = {"fine_label_names": [f"f{i}" for i in range(100)], "coarse_label_names": [f"c{i}" for i in range(20)]}
    dump_py2(os.path.join(root, "cifar-100-python", "meta"), meta)


def bad_pickles(rng):
    """Malformed CIFAR-10 test batches, one folder each, for error tests."""
    root = os.path.join(HERE, "bad")
    shutil.rmtree(root, ignore_errors=True)
    x, y, _ = records(rng, 2, 10)
    cases = {
        "label-range": {"data": x, "labels": [3, 10]},
        "label-count": {"data": x, "labels": [3, 4, 5]},
        "labels-missing": {"data": x},
        "data-dtype": {"data": x.astype(np.int16), "labels": y},
        "data-shape": {"data": x[:, :100], "labels": y},
        "not-dict": [x, y],
    }
    for name, obj in cases.items():
        dump_py2(os.path.join(root, name, "test_batch"), obj)
    # A pickle that would run a shell command if Python loaded it.
    write(os.path.join(root, "global", "test_batch"), b"\x80\x02cposix\nsystem\nq\x00U\x04trueq\x01\x85q\x02Rq\x03.")
    write(os.path.join(root, "truncated", "test_batch"), pickle.dumps({"data": x, "labels": y}, protocol=2)[:-40])


def no_checks(cls):
    """The dataset class without its md5 checks and meta file."""

    class Synthetic(cls):
        def _check_integrity(self):
            return True

        def _load_meta(self):
            self.classes = []

    return Synthetic


def torchvision_set(ds):
    xs, ys = zip(*(ds[i] for i in range(len(ds))))
    return torch.stack(xs).numpy(), np.array(ys, dtype=np.int64)


def main():
    rng = np.random.RandomState(20180101)
    cifar10(rng)
    cifar100(rng)
    bad_pickles(rng)
    out = {}
    for kind, cls, mean, std in (
        ("cifar10", CIFAR10, CIFAR10_MEAN, CIFAR10_STD),
        ("cifar100", CIFAR100, CIFAR100_MEAN, CIFAR100_STD),
    ):
        t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
        for split in ("train", "test"):
            ds = no_checks(cls)(os.path.join(HERE, kind), train=split == "train", transform=t)
            out[f"{kind}_{split}_x"], out[f"{kind}_{split}_y"] = torchvision_set(ds)

    # Fashion-MNIST: torchvision wants the unzipped files under
    # ROOT/FashionMNIST/raw; it checks that all four exist but reads only
    # the split's two, so the training files are empty stand-ins.
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "FashionMNIST", "raw")
        os.makedirs(raw)
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
            with gzip.open(os.path.join(FASHION, name + ".gz"), "rb") as f:
                write(os.path.join(raw, name), f.read())
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
            write(os.path.join(raw, name), b"")
        t = transforms.Compose([transforms.ToTensor(), transforms.Normalize(FASHION_MEAN, FASHION_STD)])
        ds = FashionMNIST(tmp, train=False, transform=t)
        idx = [0, 1, 2, 9999]
        out["fashion_test_idx"] = np.array(idx, dtype=np.int64)
        out["fashion_test_x"] = torch.stack([ds[i][0] for i in idx]).numpy()
        out["fashion_test_y"] = np.array([ds[i][1] for i in idx], dtype=np.int64)
        out["fashion_test_hist"] = np.bincount(ds.targets.numpy(), minlength=10).astype(np.int64)
        # The float64 sum of every normalised value of the split.
        total = 0.0
        for i in range(len(ds)):
            total += ds[i][0].double().sum().item()
        out["fashion_test_sum"] = np.array([total])

    np.savez_compressed(os.path.join(HERE, "expected.npz"), **out)
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, numpy {np.__version__}", file=sys.stderr)
    for k, v in out.items():
        print(f"{k}: {v.dtype}{list(v.shape)}", file=sys.stderr)


if __name__ == "__main__":
    main()
