#!/usr/bin/python3
"""Regenerates the fixtures of nets/checkpoint.

Run from this folder with Debian's python3-torch: /usr/bin/python3 make.py

One small state dict (with the nn.DataParallel "module." prefix) saved in
every format, under misleading extensions, so detection must go by
content. All hold the same values: sd.json.
"""
import json
import os
import struct
from collections import OrderedDict

import numpy as np
import torch

torch.manual_seed(0)
sd = OrderedDict()
sd["module.fc.weight"] = torch.arange(6, dtype=torch.float32).view(2, 3) / 4
sd["module.fc.bias"] = torch.tensor([0.5, -0.5])

torch.save({"state_dict": sd, "epoch": 2}, "zip.bin", _use_new_zipfile_serialization=True)
torch.save(sd, "legacy.pth.tar", _use_new_zipfile_serialization=False)
# numpy.savez appends .npz to a name without it.
np.savez("arrays.pt", **{k: v.numpy() for k, v in sd.items()})
os.replace("arrays.pt.npz", "arrays.pt")

header, blobs, off = {}, [], 0
for k, v in sd.items():
    b = v.numpy().astype("<f4").tobytes()
    header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [off, off + len(b)]}
    blobs.append(b)
    off += len(b)
h = json.dumps(header).encode()
with open("weights.pt", "wb") as fh:
    fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

with open("sd.json", "w") as fh:
    json.dump({k[len("module."):]: v.reshape(-1).tolist() for k, v in sd.items()}, fh)
