#!/usr/bin/python3
"""1D loss along filter-normalised random directions for demo checkpoints.

    /usr/bin/python3 scripts/demo/check1d.py \\
        demo/assets/resnet56-fashion14.pt demo/assets/resnet56_noshort-fashion14.pt

A quick check, in PyTorch, that the demo pair shows the paper's point (Li et
al. 2018, Fig. 5): along a random direction the loss of the network without
skip connections rises much faster than that of the same network with them.
The model name and image size are read from the file name
(<model>-fashion<size>.pt, size 28 when absent).

The direction is the reference's default for 1D plots (net_plotter.py,
dir_type 'weights', ignore 'biasbn', norm 'filter'): a Gaussian tensor for
every parameter, rescaled filter by filter (along the first axis) to the
norm of the matching filter of the weights; parameters with one axis
(biases, BatchNorm weights and biases) get a zero direction; BatchNorm
running statistics are not moved. The loss is the reference's eval_loss
(net.eval(), mean cross-entropy) over the first --n test images, as the demo
evaluates them.
"""

import argparse
import os
import re
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import train  # noqa: E402
import zoo  # noqa: E402


def filter_normalised_direction(net, gen):
    """One random direction per parameter, as the reference's
    create_random_direction(net, 'weights', 'biasbn', 'filter')."""
    out = []
    for p in net.parameters():
        d = torch.randn(p.shape, generator=gen)
        if p.dim() <= 1:
            d.zero_()
        else:
            for df, pf in zip(d, p.detach()):
                df.mul_(pf.norm() / (df.norm() + 1e-10))
        out.append(d)
    return out


def load(path):
    m = re.match(r'(.+)-fashion(\d*)\.pt$', os.path.basename(path))
    if not m:
        raise ValueError('%s: want a name <model>-fashion[<size>].pt' % path)
    model, size = m.group(1), int(m.group(2) or 28)
    net = zoo.build(model, in_channels=1, num_classes=10, height=size, width=size)
    ck = torch.load(path, map_location='cpu')
    net.load_state_dict(ck['state_dict'])
    return model, size, net, ck.get('acc')


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('checkpoints', nargs='+')
    ap.add_argument('--alphas', default='0,0.25,0.5,0.75,1')
    ap.add_argument('--seeds', default='1,2')
    ap.add_argument('--n', type=int, default=1000)
    ap.add_argument('--threads', type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    alphas = [float(a) for a in args.alphas.split(',')]
    seeds = [int(s) for s in args.seeds.split(',')]
    data = {}
    print('%-22s %4s ' % ('model', 'seed') + ' '.join('%9s' % ('a=%g' % a) for a in alphas))
    for path in args.checkpoints:
        model, size, net, acc = load(path)
        if size not in data:
            x, y = train.load_split('t10k', size=size)
            data[size] = (x[:args.n], y[:args.n])
        x, y = data[size]
        base = [p.detach().clone() for p in net.parameters()]
        for seed in seeds:
            dirs = filter_normalised_direction(net, torch.Generator().manual_seed(seed))
            losses = []
            for a in alphas:
                with torch.no_grad():
                    for p, b, d in zip(net.parameters(), base, dirs):
                        p.copy_(b + a * d)
                losses.append(train.evaluate(net, x, y)[0])
            print('%-22s %4d ' % (model, seed) + ' '.join('%9.4f' % v for v in losses), flush=True)
        with torch.no_grad():
            for p, b in zip(net.parameters(), base):
                p.copy_(b)


if __name__ == '__main__':
    main()
