#!/usr/bin/python3
"""Time Hessian-vector products: landscape's (exact, the R-operator) against
PyTorch's double backward, on this machine, in one run.

Both take the Hessian of the mean cross-entropy over the 20 samples of a
zoo fixture (testdata/zoo: resnet20 on 1x28x28 Fashion-MNIST, resnet56 on
3x32x32 random images), batch norm in eval mode, over the parameters of
rank > 1 (the reference's choice), in float32, on all cores:

  landscape  go test -bench BenchmarkHVP/<model> ./backend/cpu (one HVP per
             iteration, its ns/op)
  pytorch    torch.autograd.grad of the gradient's product with v
             (create_graph=True), torch.set_num_threads(cores), the same v

Rounds alternate the two; the table gives the median HVPs per second of
each and their ratio (landscape / PyTorch), and the projected time of a
51x51 curvature map of the model (2601 points, each ~100 HVPs for the
extreme eigenvalues to 1e-4) on this data.

    /usr/bin/python3 bench/hessian.py [--rounds 3] [--models resnet20,resnet56]

With --device cuda both run on the GPU, in FP32 (no TF32), over --samples
random samples of the fixture's input shape (a GPU needs more than 20 to
be busy), the fixture's weights:

  landscape  BenchmarkGPUHVP/<model> of the cuda package's test binary
             (--test-bin, as scripts/gpu-check.sh builds it: the GPU
             machine needs no Go), LANDSCAPE_BENCH_SAMPLES=samples
  pytorch    the same double backward on cuda, cudnn.benchmark on
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


def pytorch_hvp_rate(name, reps, device='cpu', samples=0):
    d = json.load(open(os.path.join(ZOO, name + '.json')))
    sd = fixlib.load_checkpoint(os.path.join(ZOO, d['checkpoints'][sorted(d['checkpoints'])[0]]))
    net = zoo.build(d['model'], d['in_channels'], d['classes'], d['height'], d['width'])
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in sd.items()}, strict=False)
    net.eval()
    if samples:
        g = torch.Generator().manual_seed(1)
        x = torch.randn(samples, d['in_channels'], d['height'], d['width'], generator=g)
        y = torch.randint(0, d['classes'], (samples,), generator=g)
    else:
        with np.load(os.path.join(ZOO, d['data'])) as z:
            x, y = torch.from_numpy(z['x']), torch.from_numpy(z['y'])
    net, x, y = net.to(device), x.to(device), y.to(device)
    params = [p for p in net.parameters() if p.dim() > 1]
    n = sum(p.numel() for p in params)
    v = torch.from_numpy((np.arange(n) % 7 - 3).astype(np.float32)).to(device)
    vs = list(torch.split(v, [p.numel() for p in params]))
    vs = [vi.reshape(p.shape) for vi, p in zip(vs, params)]

    def hvp():
        loss = torch.nn.functional.cross_entropy(net(x), y)
        g = torch.autograd.grad(loss, params, create_graph=True)
        return torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, vs)), params)

    sync = torch.cuda.synchronize if device == 'cuda' else (lambda: None)
    hvp()  # warm up
    sync()
    t = time.perf_counter()
    for _ in range(reps):
        hvp()
    sync()
    return reps / (time.perf_counter() - t)


def landscape_hvp_rate(name, reps):
    out = subprocess.run(['go', 'test', '-run', 'XXX', '-bench', 'BenchmarkHVP/%s$' % name, '-benchtime', '%dx' % reps,
                          './backend/cpu'], cwd=ROOT, capture_output=True, text=True, check=True,
                         env=dict(os.environ, CGO_ENABLED='0'))
    m = re.search(r'BenchmarkHVP/%s\S*\s+\d+\s+(\d+) ns/op' % name, out.stdout)
    if not m:
        sys.exit('no benchmark result in:\n' + out.stdout + out.stderr)
    return 1e9 / int(m.group(1))


def landscape_gpu_hvp_rate(name, reps, test_bin, samples):
    out = subprocess.run([test_bin, '-test.run', 'XXX', '-test.bench', 'BenchmarkGPUHVP/%s$' % name,
                          '-test.benchtime', '%dx' % reps], cwd=os.path.join(ROOT, 'backend', 'cuda'),
                         capture_output=True, text=True, check=True,
                         env=dict(os.environ, LANDSCAPE_BENCH_SAMPLES=str(samples), LANDSCAPE_REQUIRE_GPU='1'))
    m = re.search(r'BenchmarkGPUHVP/%s\S*\s+\d+\s+(\d+) ns/op' % name, out.stdout)
    if not m:
        sys.exit('no benchmark result in:\n' + out.stdout + out.stderr)
    return 1e9 / int(m.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--models', default='resnet20,resnet56')
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--reps', type=int, default=5, help='HVPs per timing')
    ap.add_argument('--device', default='cpu', choices=['cpu', 'cuda'])
    ap.add_argument('--test-bin', help='with --device cuda: the cuda package\'s test binary (go test -c ./backend/cuda)')
    ap.add_argument('--samples', type=int, default=1024, help='with --device cuda: random samples per product')
    args = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    if args.device == 'cuda':
        if not args.test_bin:
            sys.exit('--device cuda needs --test-bin')
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.benchmark = True
        print('GPU: %s, %d random samples per product, FP32' % (torch.cuda.get_device_name(0), args.samples))
    print('| model | landscape HVP/s | PyTorch HVP/s | ratio | 51x51 curvature map, projected |')
    print('|---|---|---|---|---|')
    for name in args.models.split(','):
        ours, theirs = [], []
        for _ in range(args.rounds):
            if args.device == 'cuda':
                ours.append(landscape_gpu_hvp_rate(name, args.reps, os.path.abspath(args.test_bin), args.samples))
                theirs.append(pytorch_hvp_rate(name, args.reps, 'cuda', args.samples))
            else:
                ours.append(landscape_hvp_rate(name, args.reps))
                theirs.append(pytorch_hvp_rate(name, args.reps))
        a, b = statistics.median(ours), statistics.median(theirs)
        hours = 2601 * 100 / a / 3600
        print('| %s | %.3g | %.3g | %.2fx | %.1f h |' % (name, a, b, a / b, hours), flush=True)


if __name__ == '__main__':
    main()
