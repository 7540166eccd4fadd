#!/usr/bin/python3
"""Rebuild the optimizer and LR-schedule fixtures for package optim.

Run with Debian's python3-torch (1.13), single-tensor (foreach=False) CPU
code paths, from this directory:

    /usr/bin/python3 make.py

It writes optimizers.json and schedules.json. Every float32 array is stored
as base64 of its little-endian bytes, so the Go tests compare bits exactly;
learning rates are Python floats (float64), written with repr.

The float32 results depend on the ATen CPU kernels torch picks: these were
made with the AVX2 kernels (AVX512 gives the same bytes), whose add(alpha=)
and addcmul use fused multiply-adds, as package optim does. Do not rebuild
them under ATEN_CPU_CAPABILITY=default: those kernels round the product
first (and draw different random numbers), and the Go tests would then
differ by an ulp or more.
"""
import base64
import json
import warnings

import torch

warnings.filterwarnings("ignore")
torch.manual_seed(0)
torch.set_num_threads(1)

STEPS = 20
# 15 and 18 elements cover both the 8-wide AVX2 loop and its scalar tail.
SHAPES = {"w": [3, 5], "b": [4], "k": [2, 3, 3]}


def b64(t):
    return base64.b64encode(t.detach().contiguous().numpy().astype("<f4").tobytes()).decode()


g = torch.Generator().manual_seed(1234)
init = {n: torch.randn(s, generator=g) for n, s in SHAPES.items()}
# Gradients with scales from 1e-3 to 10, so eps and both branches of
# comparisons see use.
scales = {"w": 1.0, "b": 10.0, "k": 1e-3}
grads = [{n: torch.randn(s, generator=g) * scales[n] for n, s in SHAPES.items()} for _ in range(STEPS)]

O = torch.optim
S = O.lr_scheduler
CONFIGS = [
    ("sgd", O.SGD, dict(lr=0.1)),
    ("sgd_momentum", O.SGD, dict(lr=0.1, momentum=0.9)),
    ("sgd_dampening_wd", O.SGD, dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-2)),
    ("sgd_nesterov_wd", O.SGD, dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)),
    ("adagrad", O.Adagrad, dict()),
    ("adagrad_options", O.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    ("rmsprop", O.RMSprop, dict()),
    ("rmsprop_centered", O.RMSprop, dict(centered=True)),
    ("rmsprop_momentum", O.RMSprop, dict(momentum=0.9)),
    ("rmsprop_centered_momentum_wd", O.RMSprop, dict(lr=1e-3, alpha=0.9, centered=True, momentum=0.5, weight_decay=1e-2)),
    ("adam", O.Adam, dict()),
    ("adam_amsgrad_wd", O.Adam, dict(amsgrad=True, weight_decay=1e-2)),
    ("adam_options", O.Adam, dict(lr=0.1, betas=(0.8, 0.99), eps=1e-6)),
    ("adamw", O.AdamW, dict()),
    ("adamw_amsgrad", O.AdamW, dict(lr=0.01, amsgrad=True, weight_decay=0.1)),
    ("nadam", O.NAdam, dict()),
    ("nadam_wd", O.NAdam, dict(lr=0.01, weight_decay=1e-2, momentum_decay=1e-2)),
    ("radam", O.RAdam, dict()),
    ("radam_wd", O.RAdam, dict(lr=0.01, betas=(0.5, 0.9), weight_decay=1e-2)),
]
# Two parameter groups with their own learning rates.
GROUPS = {"adam_groups": [(["w"], None), (["b", "k"], 0.1)],
          "rmsprop_groups": [(["w", "k"], 0.003), (["b"], None)]}
CONFIGS += [
    ("adam_groups", O.Adam, dict(lr=1e-2)),
    ("rmsprop_groups", O.RMSprop, dict(momentum=0.5)),
    ("sgd_momentum_steplr", O.SGD, dict(lr=0.1, momentum=0.9)),
]
# Learning rates changed by a StepLR(step_size, gamma) after every step.
STEPLR = {"sgd_momentum_steplr": (5, 0.5)}

out = {
    "torch": torch.__version__,
    "names": list(SHAPES),
    "shapes": [SHAPES[n] for n in SHAPES],
    "init": [b64(init[n]) for n in SHAPES],
    "grads": [[b64(st[n]) for n in SHAPES] for st in grads],
    "configs": [],
}
for name, cls, kw in CONFIGS:
    params = [init[n].clone().requires_grad_(True) for n in SHAPES]
    byname = dict(zip(SHAPES, params))
    kw = dict(kw, foreach=False)
    groups = None
    if name in GROUPS:
        groups = [{"params": ns, "lr": lr} for ns, lr in GROUPS[name]]
        opt = cls([dict(params=[byname[n] for n in ns], **({} if lr is None else {"lr": lr}))
                   for ns, lr in GROUPS[name]], **kw)
    else:
        opt = cls(params, **kw)
    sched = S.StepLR(opt, *STEPLR[name]) if name in STEPLR else None
    steps = []
    for st in grads:
        for p, n in zip(params, SHAPES):
            p.grad = st[n].clone()
        opt.step()
        if sched:
            sched.step()
        steps.append([b64(p) for p in params])
    kw.pop("foreach", None)
    if "betas" in kw:
        kw["beta1"], kw["beta2"] = kw.pop("betas")
    c = {"name": name, "optimizer": cls.__name__, "options": kw, "params": steps}
    if groups:
        c["groups"] = groups
    if name in STEPLR:
        c["step_lr"] = STEPLR[name]
    out["configs"].append(c)

with open("optimizers.json", "w") as f:
    json.dump(out, f, indent=0)
    f.write("\n")

SCHED_STEPS = 30


def sched_run(make):
    p = torch.zeros(1, requires_grad=True)
    opt = O.SGD([p], lr=0.1)
    s = make(opt)
    lrs = [s.get_last_lr()[0]]
    for _ in range(SCHED_STEPS):
        opt.step()
        s.step()
        lrs.append(s.get_last_lr()[0])
    return lrs


SCHEDS = [
    ("step", lambda o: S.StepLR(o, step_size=7, gamma=0.5)),
    ("step_default", lambda o: S.StepLR(o, step_size=3)),
    ("cosine", lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=1e-3)),
    ("cosine_zero", lambda o: S.CosineAnnealingLR(o, T_max=30)),
    ("linear", lambda o: S.LinearLR(o, start_factor=0.1, total_iters=5)),
    ("linear_default", lambda o: S.LinearLR(o)),
    ("warmup_cosine", lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.1, total_iters=5),
                                                 S.CosineAnnealingLR(o, T_max=25)], milestones=[5])),
    ("warmup_step", lambda o: S.SequentialLR(o, [S.LinearLR(o, start_factor=0.25, total_iters=4),
                                               S.StepLR(o, step_size=5, gamma=0.3)], milestones=[4])),
]
with open("schedules.json", "w") as f:
    json.dump({"torch": torch.__version__, "base_lr": 0.1,
               "schedules": [{"name": n, "lrs": sched_run(m)} for n, m in SCHEDS]}, f, indent=0)
    f.write("\n")
