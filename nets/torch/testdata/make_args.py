#!/usr/bin/python3
"""Writes the checkpoints most training scripts save: the state dict beside
non-tensor entries, here the argparse.Namespace of the command line, an
optimizer's state and a plain float (args_zip.pt, args_legacy.pt), and one
with a Namespace *inside* the state dict (args_inside_zip.pt), which must
still be refused. args.json lists the tensors torch.load reads back.

Run from this folder with Debian's python3-torch: /usr/bin/python3 make_args.py
"""
import argparse
import json

import torch
import torch.nn as nn

torch.manual_seed(0)
m = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
args = argparse.Namespace(lr=0.1, batch_size=128, model="tiny", milestones=[150, 225])
opt = torch.optim.SGD(m.parameters(), lr=args.lr, momentum=0.9)
m(torch.randn(4, 3)).sum().backward()
opt.step()
ckpt = {"state_dict": m.state_dict(), "args": args, "optimizer": opt.state_dict(), "acc": 91.5}
torch.save(ckpt, "args_zip.pt")
torch.save(ckpt, "args_legacy.pt", _use_new_zipfile_serialization=False)
inside = m.state_dict()
inside["args"] = args
torch.save(inside, "args_inside_zip.pt")

back = torch.load("args_zip.pt")["state_dict"]
with open("args.json", "w") as fh:
    json.dump([{"name": k, "shape": list(v.shape), "dtype": str(v.dtype).replace("torch.", ""),
                "data": v.to(torch.float32).reshape(-1).tolist()} for k, v in back.items()], fh, indent=1)
