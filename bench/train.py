#!/usr/bin/python3
"""Time training steps: landscape's (batch norm in training mode, forward and
backward on the CPU) against PyTorch's, on this machine, in one run.

Both train resnet20 (the zoo fixture's weights, 1x28x28) on a batch of 128
samples (the fixture's 20, repeated), float32, on all cores:

  landscape  go test -bench BenchmarkTrainStep ./backend/cpu (forward and
             backward of one batch per iteration, its ns/op; the optimizer
             step, a few element-wise passes over the weights, is left out)
  pytorch    net.train(); loss = cross_entropy(net(x), y); loss.backward();
             torch.set_num_threads(cores)

PyTorch runs twice: as it comes, and with glibc's malloc told to keep the
memory it frees (MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=4
GiB, in a process of its own). As it comes, its allocator hands a step's
activations back to the kernel and faults them in again on the next: here
a step measured 1,600 to 25,000 page faults and 138 to 316 ms, so its rate
swings by two from one timing to the next. Kept, a step takes no page
fault and its rate is steady: the comparison with PyTorch at its best.

Rounds alternate the three; the table gives the median steps per second of
each and the ratios (landscape / PyTorch). Seven rounds by default, for
the swings.

    /usr/bin/python3 bench/train.py [--rounds 7]
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'fixtures'))
import fixlib  # noqa: E402
import zoo  # noqa: E402

ZOO = os.path.join(ROOT, 'testdata', 'zoo')


def pytorch_rate(reps):
    d = json.load(open(os.path.join(ZOO, 'resnet20.json')))
    sd = fixlib.load_checkpoint(os.path.join(ZOO, d['checkpoints'][sorted(d['checkpoints'])[0]]))
    net = zoo.build('resnet20', 1, 10, 28, 28)
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=False)
    with np.load(os.path.join(ZOO, d['data'])) as z:
        x, y = torch.from_numpy(z['x']), torch.from_numpy(z['y'])
    idx = torch.arange(128) % len(y)
    x, y = x[idx], y[idx]
    net.train()

    def step():
        net.zero_grad()
        torch.nn.functional.cross_entropy(net(x), y).backward()

    step()
    t = time.perf_counter()
    for _ in range(reps):
        step()
    return reps / (time.perf_counter() - t)


def landscape_rate(reps):
    out = subprocess.run(['go', 'test', '-run', 'XXX', '-bench', 'BenchmarkTrainStep$', '-benchtime', '%dx' % reps,
                          './backend/cpu'], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, CGO_ENABLED='0'))
    m = re.search(r'BenchmarkTrainStep\S*\s+\d+\s+(\d+) ns/op', out.stdout)
    if not m:
        sys.exit('no benchmark result in:\n' + out.stdout + out.stderr)
    return 1e9 / int(m.group(1))


# MALLOC_KEEP tells glibc to keep what PyTorch frees: large blocks from
# the heap, not from mmap (whose blocks go back to the kernel at free), and
# the heap's top never trimmed.
MALLOC_KEEP = {'MALLOC_MMAP_THRESHOLD_': str(32 << 20), 'MALLOC_TRIM_THRESHOLD_': str(4 << 30)}


def pytorch_kept_rate(reps):
    """pytorch_rate in a process of its own, glibc keeping freed memory."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), '--pytorch-only', '--reps', str(reps)],
                         capture_output=True, text=True, check=True, env=dict(os.environ, **MALLOC_KEEP))
    return float(out.stdout.split()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--rounds', type=int, default=7)
    ap.add_argument('--reps', type=int, default=5, help='steps per timing')
    ap.add_argument('--pytorch-only', action='store_true', help='print PyTorch\'s rate alone (see pytorch_kept_rate)')
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    if args.pytorch_only:
        print(pytorch_rate(args.reps))
        return
    ours, theirs, kept = [], [], []
    for _ in range(args.rounds):
        ours.append(landscape_rate(args.reps))
        theirs.append(pytorch_rate(args.reps))
        kept.append(pytorch_kept_rate(args.reps))
    a, b, c = statistics.median(ours), statistics.median(theirs), statistics.median(kept)
    print('| model | batch | landscape steps/s | PyTorch steps/s | ratio | PyTorch, memory kept | ratio |')
    print('|---|---|---|---|---|---|---|')
    print('| resnet20 (1x28x28) | 128 | %.3g | %.3g | %.2fx | %.3g | %.2fx |' % (a, b, a / b, c, a / c))


if __name__ == '__main__':
    main()
