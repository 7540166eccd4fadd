#!/usr/bin/python3
"""Compute the same loss surface with landscape and with plain PyTorch, on this machine, and compare.

For each model, the script makes a checkpoint (the reference's initialisation, with batch-norm
running statistics taken from the data so eval mode is well scaled), CIFAR-like images (random
uint8 pixels with the CIFAR-10 normalisation, random labels) and a directions file
('landscape directions'). It then computes the surface on an NxN grid over [-1, 1]^2 in rounds,
alternating:

  landscape  the whole CLI process, built with CGO_ENABLED=0:
             landscape surface --model M --checkpoint C --data npz:D --directions F --x ... --y ...
  pytorch    Debian's python3-torch, torch.set_num_threads(THREADS), doing what the reference's
             evaluation does: for each point set θ + (αu + βv), net.eval(), loop over a DataLoader
             (batch 128), sum loss.item()*batch_size, divide by the sample count. Timed: the grid loop.

PyTorch runs a second time with glibc's malloc told to keep the memory it frees
(MALLOC_MMAP_THRESHOLD_=32 MiB, MALLOC_TRIM_THRESHOLD_=4 GiB): as it comes, its allocator hands each
batch's activations back to the kernel and faults them in again, which on this project's machines
took most of its time (resnet20: 0.42 points/s as it comes, 2.6 with the memory kept).

It prints a Markdown table: per model, the median points/second of each, their ratios, the
convolution and linear layers' GFLOP/s at those rates (counted as direct convolutions: 2 per
weight per output), the peak resident memory of each process, the largest difference between the
two surfaces (relative for the loss, in points for the accuracy), the ratio of CPU times and the
largest share of the machine other processes used during a run.

    /usr/bin/python3 bench/surface.py                       # resnet20 and resnet56, 4x4 grid, 3 rounds
    /usr/bin/python3 bench/surface.py --models resnet20 --grid 5 --rounds 5
    /usr/bin/python3 bench/surface.py --models tv:resnet18,tv:mobilenet_v2 --size 224 --samples 100

The model lm is scripts/fixtures/make_lm.py's causal transformer language model (vocabulary 50,
width 32, two blocks, 15 positions) on random token ids, its loss the next-token cross-entropy.
A model named tv:NAME is torchvision's NAME (python3-torchvision, num_classes=10, the library's
initialisation, the same running statistics), given to landscape as the ONNX file
torch.onnx.export writes as the README advises (--model NAME.onnx, its own weights) and to
PyTorch as the nn.Module; --size sets the images' side (32 by default).

Files go to bench/out/ (ignored by git). On a shared machine other processes disturb PyTorch far
more than landscape (its threads wait for each other at every layer, so a busy core stalls both),
so before each run the script waits (up to --wait seconds) for a second in which they use less
than --idle of the machine, and reports what they used during the runs.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, 'scripts', 'fixtures'))

# MALLOC_KEEP tells glibc to keep what PyTorch frees: large blocks from the heap, not from mmap
# (whose blocks go back to the kernel at free), and the heap's top never trimmed.
MALLOC_KEEP = {'MALLOC_MMAP_THRESHOLD_': str(32 << 20), 'MALLOC_TRIM_THRESHOLD_': str(4 << 30)}

MEAN = (0.4914, 0.4822, 0.4465)  # CIFAR-10, as the data package normalises
STD = (0.2470, 0.2435, 0.2616)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def make_data(out, samples, seed, size=32):
    """CIFAR-like data (random pixels, CIFAR-10 normalisation, random labels),
    written once; returns the npz path."""
    import numpy as np
    data = os.path.join(out, 'data%d-seed%d%s.npz' % (samples, seed, '' if size == 32 else '-%d' % size))
    if not os.path.exists(data):
        rng = np.random.default_rng(seed)
        img = rng.integers(0, 256, size=(samples, 3, size, size), dtype=np.uint8).astype(np.float32) / 255
        x = (img - np.array(MEAN, np.float32)[:, None, None]) / np.array(STD, np.float32)[:, None, None]
        y = rng.integers(0, 10, size=samples).astype(np.int64)
        np.savez(data, x=x.astype(np.float32), y=y)
    return data


def build(model, size=32):
    """The network: a zoo model, torchvision's for tv:NAME, or the language model."""
    if model == 'lm':
        import make_lm
        return make_lm.CausalLM()
    if model.startswith('tv:'):
        import torchvision.models as tvm
        kw = {'num_classes': 10}
        if model.startswith('tv:vit_'):
            kw['image_size'] = size
        return getattr(tvm, model[3:])(**kw)
    import zoo
    return zoo.build(model)


def fresh_net(model, seed, size=32):
    """The model with the reference's initialisation (torchvision's own for
    tv:NAME), its batch norms set to gather running statistics as a
    cumulative average: run it in train mode over the data and eval-mode
    activations have the scale they have after training."""
    import torch
    import zoo
    torch.manual_seed(seed)
    net = build(model, size)
    if not model.startswith('tv:'):
        zoo.init_params(net)
    else:
        # torchvision starts every norm at weight 1 and bias 0, which the
        # exporter merges into shared initializers; a trained network,
        # what the bench stands for, has no such twins.
        with torch.no_grad():
            for p in net.parameters():
                if p.dim() <= 1:
                    p.add_(0.01 * torch.randn_like(p))
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    return net


def make_inputs(out, model, samples, seed, size=32):
    """Checkpoint and data for model, written once; for tv:NAME also its
    ONNX export (returned as the model landscape takes)."""
    import numpy as np
    import torch
    stem = '%s-seed%d-%d' % (model.replace('tv:', 'tv-'), seed, size)
    ckpt = os.path.join(out, stem + '.pt')
    if model == 'lm':
        return make_lm_inputs(out, stem, samples, seed)
    data = make_data(out, samples, seed, size)
    if not os.path.exists(ckpt):
        net = fresh_net(model, seed, size)
        x = torch.from_numpy(np.load(data)['x'])
        net.train()
        with torch.no_grad():
            for i in range(0, len(x), 250):
                net(x[i:i + 250])
        torch.save({'state_dict': net.state_dict(), 'acc': 0.0, 'epoch': 0}, ckpt)
    if not model.startswith('tv:'):
        return model, ckpt, data
    onnx_file = os.path.join(out, stem + '.onnx')
    if not os.path.exists(onnx_file):
        import warnings
        net = build(model, size)
        net.load_state_dict(torch.load(ckpt)['state_dict'])
        net.eval()
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(net, torch.zeros(1, 3, size, size), onnx_file, training=torch.onnx.TrainingMode.PRESERVE,
                              do_constant_folding=False, input_names=['input'], output_names=['logits'],
                              dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}}, **torchscript_exporter())
    return onnx_file, ckpt, data


def torchscript_exporter():
    """The argument that keeps torch.onnx.export on its TorchScript exporter,
    which names every parameter by its state-dict key: from PyTorch 2.9 the
    default is the dynamo exporter, which folds some (a Linear's transposed
    weight, attention's in_proj_weight) into new tensors named val_N."""
    import inspect
    import torch
    return {'dynamo': False} if 'dynamo' in inspect.signature(torch.onnx.export).parameters else {}


def make_lm_inputs(out, stem, samples, seed):
    """The language model's checkpoint, ONNX export and random token ids
    (samples x 16: 15 inputs and their next tokens), written once."""
    import warnings
    import numpy as np
    import torch
    import make_lm
    ckpt, onnx_file = os.path.join(out, stem + '.pt'), os.path.join(out, stem + '.onnx')
    data = os.path.join(out, 'tokens%d-seed%d.npz' % (samples, seed))
    if not os.path.exists(data):
        rng = np.random.default_rng(seed)
        np.savez(data, x=rng.integers(0, make_lm.VOCAB, size=(samples, make_lm.T + 1), dtype=np.int64))
    if not os.path.exists(onnx_file):
        torch.manual_seed(seed)
        net = make_lm.CausalLM().eval()
        torch.save({'state_dict': net.state_dict()}, ckpt)
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(net, torch.zeros(1, make_lm.T, dtype=torch.int64), onnx_file,
                              training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, **torchscript_exporter(),
                              input_names=['ids'], output_names=['logits'], dynamic_axes={'ids': {0: 'batch'}, 'logits': {0: 'batch'}})
    return onnx_file, ckpt, data


def read_safetensors(path):
    """The tensors of a .safetensors file as float32 numpy arrays."""
    import numpy as np
    with open(path, 'rb') as f:
        n = int.from_bytes(f.read(8), 'little')
        header = json.loads(f.read(n))
        body = f.read()
    types = {'F32': np.float32, 'F16': np.float16, 'F64': np.float64}
    out = {}
    for k, v in header.items():
        if k == '__metadata__':
            continue
        a, b = v['data_offsets']
        out[k] = np.frombuffer(body[a:b], dtype=types[v['dtype']]).reshape(v['shape']).astype(np.float32)
    return out


def axis(lo, hi, n):
    import numpy as np
    return [float(v) for v in np.linspace(lo, hi, n)]


def torch_worker(args):
    """One timed PyTorch run; prints JSON with the surface and the loop time."""
    import numpy as np
    import torch
    torch.set_num_threads(args.threads)
    net = build(args.model, args.size)
    sd = torch.load(args.checkpoint)['state_dict']
    net.load_state_dict(sd)
    dirs = read_safetensors(args.directions)
    names = [k for k, _ in net.named_parameters()]
    w0 = [p.data.clone() for _, p in net.named_parameters()]
    dx = [torch.from_numpy(dirs['x.' + k]) if 'x.' + k in dirs else torch.zeros_like(w) for k, w in zip(names, w0)]
    dy = [torch.from_numpy(dirs['y.' + k]) if 'y.' + k in dirs else torch.zeros_like(w) for k, w in zip(names, w0)]
    d = np.load(args.data)
    if args.model == 'lm':  # inputs and their next tokens
        ds = torch.utils.data.TensorDataset(torch.from_numpy(d['x'][:, :-1]), torch.from_numpy(d['x'][:, 1:]))
    else:
        ds = torch.utils.data.TensorDataset(torch.from_numpy(d['x']), torch.from_numpy(d['y']))
    loader = torch.utils.data.DataLoader(ds, batch_size=128, shuffle=False)
    criterion = torch.nn.CrossEntropyLoss()
    xs, ys = axis(-1, 1, args.grid), axis(-1, 1, args.grid)
    points = []
    t0, c0 = time.perf_counter(), time.process_time()
    for b in ys:
        for a in xs:
            # The reference's set_weights: w + (d0·α + d1·β).
            for p, w, u, v in zip(net.parameters(), w0, dx, dy):
                p.data = w + (u * a + v * b)
            net.eval()
            total, total_loss, correct = 0, 0.0, 0
            with torch.no_grad():
                for inputs, targets in loader:
                    outputs = net(inputs)
                    if args.model == 'lm':  # every position predicts its next token
                        outputs, targets = outputs.reshape(-1, outputs.size(-1)), targets.reshape(-1)
                    n = targets.size(0)
                    total += n
                    total_loss += criterion(outputs, targets).item() * n
                    correct += outputs.max(1)[1].eq(targets).sum().item()
            points.append({'x': a, 'y': b, 'loss': total_loss / total, 'acc': 100.0 * correct / total})
    secs, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({'seconds': secs, 'cpu': cpu, 'points': points}))


def cpu_ticks():
    """(busy, total) clock ticks of all CPUs so far, from /proc/stat."""
    with open('/proc/stat') as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def wait_idle(limit, max_wait):
    """Waits up to max_wait seconds for a second in which other processes use
    less than limit of the machine; returns the share they used last."""
    deadline = time.time() + max_wait
    while True:
        b0, t0 = cpu_ticks()
        time.sleep(1)
        b1, t1 = cpu_ticks()
        share = (b1 - b0) / max(1, t1 - t0)
        if share < limit or time.time() > deadline:
            return share
        time.sleep(2)


class Run:
    """One child process: wall time, peak RSS, output, CPU time, and the
    share of the machine that other processes used meanwhile."""


def timed(cmd, env=None):
    """Runs cmd and returns a Run."""
    import tempfile
    hz = os.sysconf('SC_CLK_TCK')
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        b0, k0 = cpu_ticks()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, ru = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
        b1, k1 = cpu_ticks()
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit('%s failed:\n%s' % (' '.join(cmd), err.read().decode()))
        r = Run()
        r.seconds, r.rss, r.out, r.cpu = secs, ru.ru_maxrss * 1024, out.read(), ru.ru_utime + ru.ru_stime
        r.others = max(0.0, ((b1 - b0) - r.cpu * hz) / max(1, k1 - k0))
        return r


def conv_flops(model, size=32):
    """FLOPs (2 per multiply-add) of the convolutions and linear layers for one 3 x size x size image."""
    import torch
    net = build(model, size).eval()
    total = [0]

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            total[0] += 2 * k * out.numel()
        elif isinstance(m, torch.nn.Linear):
            total[0] += 2 * m.in_features * out.numel()
    for m in net.modules():
        m.register_forward_hook(hook)
    with torch.no_grad():
        if model == 'lm':
            import make_lm
            net(torch.zeros(1, make_lm.T, dtype=torch.int64))
        else:
            net(torch.zeros(1, 3, size, size))
    return total[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', default='resnet20,resnet56')
    ap.add_argument('--grid', type=int, default=4, help='points per axis (the grid is NxN over [-1,1]^2)')
    ap.add_argument('--samples', type=int, default=1000)
    ap.add_argument('--size', type=int, default=32, help='image side of the tv: models (the zoo takes 32)')
    ap.add_argument('--rounds', type=int, default=3, help='alternating runs of each side; medians are quoted')
    ap.add_argument('--threads', type=int, default=os.cpu_count(), help='PyTorch threads (default: all cores)')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--out', default=os.path.join(ROOT, 'bench', 'out'))
    ap.add_argument('--bin', help='a landscape binary to use instead of building one')
    ap.add_argument('--idle', type=float, default=0.1,
                    help='before each run, wait for other processes to use less than this share of the machine')
    ap.add_argument('--wait', type=float, default=300, help='... but no longer than this many seconds')
    # Internal: the PyTorch side, run as child processes so that this one
    # stays small (a child's peak RSS counts the parent it was forked from).
    ap.add_argument('--torch-worker', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--prepare', action='store_true', help=argparse.SUPPRESS)
    ap.add_argument('--model', help=argparse.SUPPRESS)
    ap.add_argument('--checkpoint', help=argparse.SUPPRESS)
    ap.add_argument('--data', help=argparse.SUPPRESS)
    ap.add_argument('--directions', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.torch_worker:
        return torch_worker(args)
    if args.prepare:
        import torch
        size = args.size if args.model.startswith('tv:') else 32
        landscape_model, ckpt, data = make_inputs(args.out, args.model, args.samples, args.seed, size)
        print(json.dumps({'model': landscape_model, 'checkpoint': ckpt, 'data': data, 'size': size,
                          'flops': conv_flops(args.model, size), 'torch': torch.__version__}))
        return

    os.makedirs(args.out, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED='0')
    binary = args.bin
    if not binary:
        binary = os.path.join(args.out, 'landscape')
        subprocess.run(['go', 'build', '-o', binary, './cmd/landscape'], cwd=ROOT, env=env, check=True)
    dump = os.path.join(args.out, 'dump')
    subprocess.run(['go', 'build', '-o', dump, './bench/dump'], cwd=ROOT, env=env, check=True)
    devices = timed([binary, 'devices']).out
    log('landscape:', devices.decode().splitlines()[0])

    rows = []
    for model in args.models.split(','):
        prep = json.loads(timed([sys.executable, os.path.abspath(__file__), '--prepare', '--model', model, '--samples',
                                 str(args.samples), '--seed', str(args.seed), '--size', str(args.size),
                                 '--out', args.out]).out)
        ckpt, data, lmodel = prep['checkpoint'], prep['data'], prep['model']
        # An ONNX export is its own checkpoint: its initializers are the weights.
        lckpt = [] if lmodel.endswith('.onnx') else ['--checkpoint', ckpt]
        log('pytorch %s, %d threads' % (prep['torch'], args.threads))
        stem = os.path.splitext(os.path.basename(ckpt))[0]
        dirs = os.path.join(args.out, stem + '.dirs.safetensors')
        if not os.path.exists(dirs):
            timed([binary, 'directions', '--model', lmodel] + lckpt + ['--seed', '7', '--out', dirs])
        surface = os.path.join(args.out, stem + '.parquet')
        lim = '-1:1:%d' % args.grid
        classes = [] if model == 'lm' else ['--classes', '10']
        go_cmd = [binary, 'surface', '--model', lmodel] + lckpt + ['--data', 'npz:' + data] + classes + [
                  '--directions', dirs, '--x=' + lim, '--y=' + lim, '--out', surface, '--quiet']
        py_cmd = [sys.executable, os.path.abspath(__file__), '--torch-worker', '--model', model, '--checkpoint', ckpt,
                  '--data', data, '--directions', dirs, '--grid', str(args.grid), '--threads', str(args.threads),
                  '--size', str(prep['size'])]
        go_t, py_t, pk_t, go_rss, py_rss, go_cpu, py_cpu, others = [], [], [], [], [], [], [], []
        torch_points = None
        for r in range(args.rounds):
            for side in (('go', 'py', 'pk') if r % 2 == 0 else ('pk', 'py', 'go')):
                before = wait_idle(args.idle, args.wait)
                if side == 'go':
                    if os.path.exists(surface):
                        os.remove(surface)
                    run = timed(go_cmd, env)
                    go_t.append(run.seconds)
                    go_rss.append(run.rss)
                    go_cpu.append(run.cpu)
                    what = 'landscape %.2f s' % run.seconds
                elif side == 'pk':
                    run = timed(py_cmd, dict(os.environ, **MALLOC_KEEP))
                    pk_t.append(json.loads(run.out)['seconds'])
                    what = 'pytorch, memory kept, %.2f s (grid loop)' % pk_t[-1]
                else:
                    run = timed(py_cmd)
                    res = json.loads(run.out)
                    py_t.append(res['seconds'])
                    py_rss.append(run.rss)
                    py_cpu.append(res['cpu'])
                    torch_points = res['points']
                    what = 'pytorch %.2f s (grid loop; process %.2f s)' % (res['seconds'], run.seconds)
                others.append(run.others)
                log('%s round %d: %s; other processes used %.0f%% of the machine before, %.0f%% during' % (
                    model, r + 1, what, 100 * before, 100 * run.others))
        mine = {(round(p['x'], 9), round(p['y'], 9)): p['values'] for p in json.loads(timed([dump, surface]).out)}
        dloss = dacc = 0.0
        for p in torch_points:
            v = mine[(round(p['x'], 9), round(p['y'], 9))]
            dloss = max(dloss, abs(v['train_loss'] - p['loss']) / abs(p['loss']))
            dacc = max(dacc, abs(v['train_acc'] - p['acc']))
        npts = args.grid * args.grid
        flops = prep['flops'] * args.samples * npts
        go_med, py_med, pk_med = statistics.median(go_t), statistics.median(py_t), statistics.median(pk_t)
        rows.append({
            'model': model if prep['size'] == 32 else '%s (%dx%d)' % (model, prep['size'], prep['size']),
            'points': npts, 'samples': args.samples,
            'go_pps': npts / go_med, 'py_pps': npts / py_med, 'ratio': py_med / go_med,
            'pk_pps': npts / pk_med, 'pk_ratio': pk_med / go_med,
            'go_gflops': flops / go_med / 1e9, 'py_gflops': flops / py_med / 1e9,
            'go_rss': max(go_rss), 'py_rss': max(py_rss),
            'dloss': dloss, 'dacc': dacc, 'go_t': go_t, 'py_t': py_t,
            'cpu_ratio': statistics.median(py_cpu) / statistics.median(go_cpu), 'others': max(others),
        })

    print('| model | grid × samples | landscape points/s | PyTorch points/s | ratio | PyTorch, memory kept | ratio '
          '| GFLOP/s landscape / PyTorch | peak RSS landscape / PyTorch | largest loss difference '
          '| largest accuracy difference | CPU time ratio | other load |')
    print('|---|---|---|---|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print('| %s | %d × %d | %.3f | %.3f | **%.2fx** | %.3f | **%.2fx** | %.0f / %.0f | %.0f MB / %.0f MB | %.1e '
              '| %.2f | %.2fx | ≤%.0f%% |' % (
            r['model'], r['points'], r['samples'], r['go_pps'], r['py_pps'], r['ratio'], r['pk_pps'], r['pk_ratio'],
            r['go_gflops'],
            r['py_gflops'], r['go_rss'] / 1e6, r['py_rss'] / 1e6, r['dloss'], r['dacc'], r['cpu_ratio'],
            100 * r['others']))
    for r in rows:
        log('%s: landscape %s s, pytorch %s s' % (r['model'], ', '.join('%.2f' % t for t in r['go_t']),
                                                   ', '.join('%.2f' % t for t in r['py_t'])))


if __name__ == '__main__':
    main()
