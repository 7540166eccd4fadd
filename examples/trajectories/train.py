"""Two short training runs of the same ResNet-20 from the same start, one
with SGD and one with Adam, on Fashion-MNIST (Debian's dataset-fashion-mnist),
saving a checkpoint every --every steps: the input of run.sh, which draws
both paths on one loss surface.

    /usr/bin/python3 examples/trajectories/train.py --out /tmp/traj
"""
import argparse
import os
import sys

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'scripts', 'demo'))
import train as demo  # noqa: E402  (read_idx, load_split, zoo)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument('--out', required=True)
    ap.add_argument('--steps', type=int, default=300)
    ap.add_argument('--every', type=int, default=30)
    ap.add_argument('--seed', type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(2)
    x, y = demo.load_split('train')
    torch.manual_seed(args.seed)
    start = demo.zoo.build('resnet20', in_channels=1, num_classes=10, height=28, width=28).state_dict()
    for name, make in [('sgd', lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)),
                       ('adam', lambda p: torch.optim.Adam(p, lr=1e-3, weight_decay=5e-4))]:
        torch.manual_seed(args.seed)  # the same start and the same batches for both
        net = demo.zoo.build('resnet20', in_channels=1, num_classes=10, height=28, width=28)
        net.load_state_dict(start)
        opt = make(net.parameters())
        folder = os.path.join(args.out, name)
        os.makedirs(folder, exist_ok=True)
        order = torch.randperm(len(x))
        for step in range(args.steps + 1):
            if step % args.every == 0:
                torch.save({'state_dict': net.state_dict(), 'step': step}, os.path.join(folder, 'model_%d.pt' % step))
            if step == args.steps:
                break
            idx = order[(step * 128) % (len(x) - 128):][:128]
            net.train()
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        print('%s: %d steps, last batch loss %.3f' % (name, args.steps, loss.item()))


if __name__ == '__main__':
    main()
