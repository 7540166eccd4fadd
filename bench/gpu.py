#!/usr/bin/env python3
"""Compute the same loss surface with landscape's CUDA backend and with PyTorch on one GPU, and compare.

Run on an NVIDIA machine with PyTorch (CUDA build), with a landscape binary built elsewhere
(scripts/gpu-check.sh builds one with CGO_ENABLED=0 and runs this script):

    python3 bench/gpu.py --bin DIR/landscape [--model resnet56] [--samples 10000] [--grid 5]

A model named tv:NAME is torchvision's NAME, exported to ONNX as bench/surface.py does: those the
engines cannot run (tv:vit_b_16, tv:convnext_tiny) measure the graph interpreter. Their TFLOP/s
count the convolutions and nn.Linear layers only (not attention's products nor its input
projection).

For the model it makes a checkpoint (the reference's initialisation, batch-norm running
statistics from the data), CIFAR-like data (random pixels with the CIFAR-10 normalisation,
random labels) and a directions file ('landscape directions'), then evaluates a GRIDxGRID grid
over [-1, 1]^2 with:

  landscape     landscape surface --device cuda (FP32), and again with --tf32; the CLI reports
                its points/s over the grid loop, after loading and setting up, and the whole
                process is timed as well. Both again with LANDSCAPE_CUDNN_BENCHMARK=1 ("timed
                algorithms": cuDNN's algorithms chosen by timing rather than by its heuristics).
  pytorch ref   the reference's evaluation loop (loss_landscape/evaluation.py): for each point
                set θ + (αu + βv), net.eval(), a DataLoader of CPU tensors with batch 128, each
                batch moved with .cuda(), loss.item()*batch and correct.item() per batch. FP32
                (cudnn.allow_tf32 = False), and with PyTorch's GPU defaults (TF32 convolutions).
  pytorch tuned the same computation as PyTorch can best do it: data resident on the GPU, the
                batch landscape uses, cudnn.benchmark, sums kept on the GPU, one sync per point.

The PyTorch grid loops are timed after one untimed warm-up point; --rounds (3) alternating rounds
of both sides are run and medians quoted. It prints a Markdown table: points/s, the ratio to landscape at the same precision, the convolution and linear layers'
TFLOP/s at that rate against the card's peak, and the largest loss difference from PyTorch's
FP32 reference surface. --json writes the numbers too.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'fixtures'))
sys.path.insert(0, os.path.join(ROOT, 'bench'))

# Dense peak TFLOP/s of the cards this was written for (NVIDIA datasheets,
# SXM): FP32 on the CUDA cores, TF32 on the tensor cores.
PEAKS = {'H100': (67.0, 494.7), 'H200': (67.0, 494.7), 'A100': (19.5, 156.0)}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_inputs(out, model, samples, seed):
    """The model landscape takes (the zoo name, or for tv:NAME its ONNX
    export), its checkpoint and data, as bench/surface.py makes them, a zoo
    model's batch-norm statistics gathered on the GPU."""
    import numpy as np
    import torch
    from surface import fresh_net, make_data
    if model.startswith('tv:'):
        import surface
        return surface.make_inputs(out, model, samples, seed)
    ckpt = os.path.join(out, '%s-gpu-seed%d.pt' % (model, seed))
    data = make_data(out, samples, seed)
    if not os.path.exists(ckpt):
        net = fresh_net(model, seed)
        x = torch.from_numpy(np.load(data)['x'])
        net.cuda().train()
        with torch.no_grad():
            for i in range(0, min(len(x), 4000), 500):
                net(x[i:i + 500].cuda())
        torch.save({'state_dict': {k: v.cpu() for k, v in net.state_dict().items()}, 'acc': 0.0, 'epoch': 0}, ckpt)
    return model, ckpt, data


def axis(n):
    import numpy as np
    return [float(v) for v in np.linspace(-1, 1, n)]


def torch_surface(model, ckpt, data, dirs, grid, tf32, tuned, batch, profile=False):
    """Evaluates the grid with PyTorch; returns (points/s, points). With
    profile, prints instead the GPU time of one point by kernel
    (torch.profiler) and returns nothing."""
    import numpy as np
    import torch
    from surface import build, read_safetensors
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = False  # PyTorch's default for matrix products
    torch.backends.cudnn.benchmark = tuned
    net = build(model).cuda()
    net.load_state_dict(torch.load(ckpt)['state_dict'])
    d = read_safetensors(dirs)
    params = list(net.named_parameters())
    w0 = [p.data.clone() for _, p in params]
    dx = [torch.from_numpy(d['x.' + k]).cuda() if 'x.' + k in d else torch.zeros_like(w) for (k, _), w in zip(params, w0)]
    dy = [torch.from_numpy(d['y.' + k]).cuda() if 'y.' + k in d else torch.zeros_like(w) for (k, _), w in zip(params, w0)]
    arrays = np.load(data)
    x, y = torch.from_numpy(arrays['x']), torch.from_numpy(arrays['y'])
    criterion = torch.nn.CrossEntropyLoss()
    if tuned:
        x, y = x.cuda(), y.cuda()
        criterion = torch.nn.CrossEntropyLoss(reduction='sum')
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=128, shuffle=False)

    def evaluate(a, b):
        for (_, p), w, u, v in zip(params, w0, dx, dy):
            p.data = w + (u * a + v * b)
        net.eval()
        with torch.no_grad():
            if tuned:
                loss = torch.zeros((), dtype=torch.float64, device='cuda')
                correct = torch.zeros((), dtype=torch.int64, device='cuda')
                for i in range(0, len(x), batch):
                    out = net(x[i:i + batch])
                    loss += criterion(out, y[i:i + batch]).double()
                    correct += out.max(1)[1].eq(y[i:i + batch]).sum()
                return loss.item() / len(x), 100.0 * correct.item() / len(x)
            total, total_loss, correct = 0, 0.0, 0
            for inputs, targets in loader:
                inputs, targets = inputs.cuda(), targets.cuda()
                n = inputs.size(0)
                total += n
                outputs = net(inputs)
                total_loss += criterion(outputs, targets).item() * n
                correct += outputs.max(1)[1].eq(targets).sum().item()
            return total_loss / total, 100.0 * correct / total

    evaluate(0.0, 0.0)  # warm-up: cuDNN's choices, the allocator
    torch.cuda.synchronize()
    if profile:
        from torch.profiler import ProfilerActivity
        with torch.profiler.profile(activities=[ProfilerActivity.CUDA]) as prof:
            evaluate(0.5, -0.5)
            torch.cuda.synchronize()
        print(prof.key_averages().table(sort_by='cuda_time_total', row_limit=25))
        return None
    points = []
    t0 = time.perf_counter()
    for b in axis(grid):
        for a in axis(grid):
            loss, acc = evaluate(a, b)
            points.append({'x': a, 'y': b, 'loss': loss, 'acc': acc})
    torch.cuda.synchronize()
    return len(points) / (time.perf_counter() - t0), points


def landscape_surface(binary, model, ckpt, data, dirs, grid, tf32, out, benchmark=False, profile=False):
    """Runs the CLI; returns (points/s over the grid loop, points/s of the whole
    process, device description, points). With profile, prints the graph
    interpreter's time by operator (LANDSCAPE_PROFILE=1)."""
    import pyarrow.parquet as pq
    lim = '-1:1:%d' % grid
    cmd = [binary, 'surface', '--device', 'cuda', '--model', model, '--checkpoint', ckpt, '--data', 'npz:' + data,
           '--classes', '10', '--directions', dirs, '--x=' + lim, '--y=' + lim, '--out', out, '--quiet', '--overwrite']
    if tf32:
        cmd.append('--tf32')
    if os.path.exists(out):
        os.remove(out)
    t0 = time.perf_counter()
    env = dict(os.environ, LANDSCAPE_CUDNN_BENCHMARK='1' if benchmark else '0', LANDSCAPE_PROFILE='1' if profile else '0')
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    secs = time.perf_counter() - t0
    if res.returncode != 0:
        raise SystemExit('%s failed:\n%s%s' % (' '.join(cmd), res.stdout, res.stderr))
    m = re.search(r'then ([0-9.e+]+) points/s on (.*)\)', res.stdout)
    if not m:
        raise SystemExit('no rate in the output of %s:\n%s' % (' '.join(cmd), res.stdout))
    if profile:
        print(res.stderr)
    t = pq.read_table(out).to_pandas()
    points = [{'x': r.x, 'y': r.y, 'loss': r.train_loss, 'acc': r.train_acc} for r in t.itertuples()]
    return float(m.group(1)), grid * grid / secs, m.group(2), points


def largest_difference(a, b):
    """Largest relative loss difference and accuracy difference (points) between two surfaces."""
    key = lambda p: (round(p['x'], 9), round(p['y'], 9))
    bb = {key(p): p for p in b}
    dl = max(abs(p['loss'] - bb[key(p)]['loss']) / abs(bb[key(p)]['loss']) for p in a)
    da = max(abs(p['acc'] - bb[key(p)]['acc']) for p in a)
    return dl, da


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--bin', required=True, help='the landscape binary')
    ap.add_argument('--model', default='resnet56')
    ap.add_argument('--samples', type=int, default=10000)
    ap.add_argument('--grid', type=int, default=5, help='points per axis (the grid is NxN over [-1,1]^2)')
    ap.add_argument('--rounds', type=int, default=3, help='alternating rounds of both sides; medians are quoted')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', default=os.path.join(ROOT, 'bench', 'out'))
    ap.add_argument('--json', help='also write the results here')
    ap.add_argument('--profile', action='store_true',
                    help='only say where the GPU time of a point goes, on each side: the graph interpreter\'s time '
                         'by operator (LANDSCAPE_PROFILE=1, one FP32 run) and PyTorch\'s tuned loop by kernel (torch.profiler)')
    args = ap.parse_args()
    import torch
    from surface import conv_flops
    os.makedirs(args.out, exist_ok=True)
    name = torch.cuda.get_device_name(0)
    log('device: %s; PyTorch %s, cuDNN %s' % (name, torch.__version__, torch.backends.cudnn.version()))
    lmodel, ckpt, data = make_inputs(args.out, args.model, args.samples, args.seed)
    dirs = os.path.join(args.out, '%s-gpu-seed%d.dirs.safetensors' % (args.model.replace('tv:', 'tv-'), args.seed))
    cmd = [args.bin, 'directions', '--model', lmodel, '--checkpoint', ckpt, '--seed', '7', '--out', dirs]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        # Keep measuring, from a safetensors copy of the same weights, but say why.
        log('WARNING: %s failed:\n%s%s' % (' '.join(cmd), res.stdout, res.stderr))
        import torch
        from safetensors.torch import save_file
        lckpt = ckpt[:-len('.pt')] + '.safetensors'
        save_file(torch.load(ckpt)['state_dict'], lckpt)
        cmd[cmd.index('--checkpoint') + 1] = lckpt
        subprocess.run(cmd, check=True)
    else:
        lckpt = ckpt  # the checkpoint landscape reads
    flops = conv_flops(args.model) * args.samples  # per point
    peak = next((v for k, v in PEAKS.items() if k in name), None)

    if args.profile:
        out = os.path.join(args.out, 'gpu-profile.parquet')
        _, _, desc, _ = landscape_surface(args.bin, lmodel, lckpt, data, dirs, args.grid, False, out, profile=True)
        m = re.search(r'batch (\d+)', desc)
        torch_surface(args.model, ckpt, data, dirs, args.grid, False, True, int(m.group(1)) if m else 1024, profile=True)
        return

    # Rounds alternate the order of the sides; each row's rate is the
    # median over rounds, its surface the last round's.
    rows = {}

    def record(who, tf32, rate, pts, **extra):
        r = rows.setdefault((who, tf32), {'who': who, 'precision': 'TF32' if tf32 else 'FP32', 'rates': []})
        r['rates'].append(rate)
        r['points'] = pts
        r.update(extra)
        log('%s %s: %.3g points/s' % (who, r['precision'], rate))

    batch = None
    for rnd in range(args.rounds):
        sides = ('landscape', 'pytorch') if rnd % 2 == 0 else ('pytorch', 'landscape')
        for side in sides:
            if side == 'landscape':
                for benchmark in (False, True):
                    for tf32 in (False, True):
                        out = os.path.join(args.out, 'gpu-%s.parquet' % ('tf32' if tf32 else 'fp32'))
                        loop, whole, desc, pts = landscape_surface(args.bin, lmodel, lckpt, data, dirs, args.grid, tf32,
                                                                   out, benchmark)
                        record('landscape, timed algorithms' if benchmark else 'landscape', tf32, loop, pts, device=desc,
                               process_rate=whole)
                    m = re.search(r'batch (\d+)', desc)
                    batch = batch or (int(m.group(1)) if m else 1024)
            else:
                for tuned in (False, True):
                    for tf32 in (False, True):
                        rate, pts = torch_surface(args.model, ckpt, data, dirs, args.grid, tf32, tuned, batch or 1024)
                        record('pytorch tuned' if tuned else 'pytorch ref', tf32, rate, pts)
    order = [('landscape', False), ('landscape', True), ('landscape, timed algorithms', False),
             ('landscape, timed algorithms', True), ('pytorch ref', False), ('pytorch ref', True),
             ('pytorch tuned', False), ('pytorch tuned', True)]
    rows = [rows[k] for k in order]
    for r in rows:
        r['rate'] = statistics.median(r['rates'])
    ours = {False: rows[0]['rate'], True: rows[1]['rate']}
    ref = next(r for r in rows if r['who'] == 'pytorch ref' and r['precision'] == 'FP32')['points']

    print('%s, %s, %d samples of 3x32x32, %dx%d grid, median of %d rounds; PyTorch %s, cuDNN %s' % (
        name, args.model, args.samples, args.grid, args.grid, args.rounds, torch.__version__, torch.backends.cudnn.version()))
    print()
    print('| run | precision | points/s | landscape / this | TFLOP/s | of peak | largest loss diff. vs PyTorch FP32 ref | accuracy diff. |')
    print('|---|---|---|---|---|---|---|---|')
    for r in rows:
        tflops = r['rate'] * flops / 1e12
        share = '%.0f%%' % (100 * tflops / peak[r['precision'] == 'TF32']) if peak else '?'
        dl, da = largest_difference(r['points'], ref)
        ratio = ours[r['precision'] == 'TF32'] / r['rate']
        print('| %s | %s | %.3g | %.2fx | %.1f | %s | %.1e | %.2g |' % (r['who'], r['precision'], r['rate'], ratio, tflops, share, dl, da))
    print()
    print('landscape: %s; whole process (loading, setup, %d points): %.3g points/s FP32, %.3g TF32' % (
        rows[0]['device'], args.grid ** 2, rows[0]['process_rate'], rows[1]['process_rate']))
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'device': name, 'torch': torch.__version__, 'model': args.model, 'samples': args.samples,
                       'grid': args.grid, 'flops_per_point': flops,
                       'rows': [{k: v for k, v in r.items() if k != 'points'} for r in rows]}, f, indent=1)


if __name__ == '__main__':
    main()
