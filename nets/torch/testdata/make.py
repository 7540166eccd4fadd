#!/usr/bin/python3
"""Regenerates the checkpoint fixtures of nets/torch.

Run from this folder with Debian's python3-torch: /usr/bin/python3 make.py

Each checkpoint is written twice, by torch.save in the zip format (PyTorch
1.6 and later) and in the legacy pickle format
(_use_new_zipfile_serialization=False), under various extensions: the
readers must go by content. expected.json lists, for every fixture, the
tensors a loader must return (name, shape, dtype and values as float32
would hold them), so the Go tests need no Python.
"""
import json
import os
import pickle
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn

torch.manual_seed(0)


def net():
    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 2, 3), nn.BatchNorm2d(2), nn.Flatten(), nn.Linear(8, 3))
    with torch.no_grad():
        m[1].running_mean.uniform_()
        m[1].running_var.uniform_(0.5, 2)
    m[1].num_batches_tracked += 7
    return m


sd = net().state_dict()

# A bigger storage viewed several ways: transposed (non-contiguous), sliced
# at an offset, strided rows, expanded (stride 0), and shared by two names.
base = torch.arange(24, dtype=torch.float32) / 8 - 1
views = OrderedDict()
views["transposed"] = base[:12].view(3, 4).t()
views["slice"] = base[5:11].view(2, 3)
views["strided"] = base.view(4, 6)[::2, 1::2]
views["expanded"] = base[20:21].expand(3, 2)
views["same_a"] = base.view(2, 12)
views["same_b"] = base.view(2, 12)
views["scalar_f"] = base[3]  # 0-dim view at an offset

dtypes = OrderedDict()
dtypes["f16"] = (torch.arange(6, dtype=torch.float32) / 4 - 0.5).half().view(2, 3)
dtypes["f64"] = (torch.arange(4, dtype=torch.float64) / 3)
dtypes["bf16"] = (torch.arange(4, dtype=torch.float32) * 1.5).bfloat16()
dtypes["i64"] = torch.tensor([-3, 0, 5, 2**40], dtype=torch.int64)
dtypes["i32"] = torch.tensor([[-1, 2], [3, -4]], dtype=torch.int32)
dtypes["u8"] = torch.tensor([0, 7, 255], dtype=torch.uint8)
dtypes["bool"] = torch.tensor([True, False, True])
dtypes["scalar_i64"] = torch.tensor(42, dtype=torch.int64)
dtypes["empty"] = torch.zeros(0, 3)

model = net()
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
model(torch.ones(1, 3, 4, 4)).sum().backward()
opt.step()

params = OrderedDict((k, nn.Parameter(v.clone())) for k, v in list(sd.items())[:2])

checkpoints = {
    "bare": sd,
    "wrapped": {"state_dict": sd, "epoch": 3, "acc": 91.5, "best_acc": np.float64(92.25), "arch": "toy"},
    "model_state_dict": {"epoch": 1, "model_state_dict": model.state_dict(), "optimizer_state_dict": opt.state_dict()},
    "module": OrderedDict(("module." + k, v) for k, v in sd.items()),
    "views": views,
    "dtypes": dtypes,
    "params": params,
    # PyTorch's ImageNet example's checkpoint: a tensor (best_acc1) beside
    # the state dict, which is still under state_dict.
    "imagenet_example": {"epoch": 90, "arch": "toy", "state_dict": sd, "best_acc1": torch.tensor(45.5),
                         "optimizer": opt.state_dict()},
}
ext = {"bare": ".pt", "wrapped": ".pth", "model_state_dict": ".tar", "module": ".t7",
       "views": ".pt", "dtypes": ".pth", "params": ".pt", "imagenet_example": ".pth.tar"}


def tensors_of(obj):
    if isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in ("state_dict", "model_state_dict"):
            if key in obj:
                return obj[key]
    return obj


expected = {}
for name, obj in checkpoints.items():
    for fmt in ("zip", "legacy"):
        fname = "%s_%s%s" % (name, fmt, ext[name])
        torch.save(obj, fname, _use_new_zipfile_serialization=(fmt == "zip"))
        # Check what torch itself reads back.
        back = torch.load(fname, weights_only=False)  # PyTorch 2.6+ defaults to True
        entries = []
        for k, v in tensors_of(back).items():
            if not isinstance(v, torch.Tensor):
                continue
            entries.append({
                "name": k,
                "shape": list(v.shape),
                "dtype": str(v.dtype).replace("torch.", "").replace("bool", "bool"),
                "data": v.detach().to(torch.float32).reshape(-1).tolist(),
            })
        expected[fname] = entries

# A state dict pickled with plain pickle.dump: each storage is a nested
# legacy checkpoint passed to torch.storage._load_from_bytes.
with open("plain_pickle.pkl", "wb") as fh:
    pickle.dump(views, fh, protocol=2)
with open("plain_pickle.pkl", "rb") as fh:
    back = pickle.load(fh)
expected["plain_pickle.pkl"] = [
    {"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
     "data": v.to(torch.float32).reshape(-1).tolist()} for k, v in back.items()]

# A whole pickled module rather than a state dict, and a malicious pickle.
torch.save(net(), "whole_model_zip.pt")
torch.save(net(), "whole_model_legacy.pt", _use_new_zipfile_serialization=False)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


torch.save({"state_dict": Evil()}, "evil_zip.pt")
torch.save({"state_dict": Evil()}, "evil_legacy.pt", _use_new_zipfile_serialization=False)

with open("expected.json", "w") as fh:
    json.dump(expected, fh, indent=1)
