#!/usr/bin/python3
"""Writes protocol1_legacy.pt: a legacy checkpoint (torch.save with
_use_new_zipfile_serialization=False) pickled at protocol 1, the lowest
torch.save can write (protocol 0 cannot pickle its persistent ids). Its
pickles do not open with 0x80 as protocols 2 and later do: the file starts
with the magic number as a decimal LONG opcode, L119547037146038801333356L.
protocol1_legacy.json lists the tensors torch.load reads back.

Run from this folder with Debian's python3-torch: /usr/bin/python3 make_protocol1.py
"""
import json

import torch
import torch.nn as nn

torch.manual_seed(0)
m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
with torch.no_grad():
    m[1].running_mean.uniform_()
torch.save(m.state_dict(), "protocol1_legacy.pt", pickle_protocol=1, _use_new_zipfile_serialization=False)

back = torch.load("protocol1_legacy.pt")
with open("protocol1_legacy.json", "w") as fh:
    json.dump([{"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                "data": v.to(torch.float32).reshape(-1).tolist()} for k, v in back.items()], fh, indent=1)
