#!/usr/bin/python3
"""Train the demo models of landscape on Fashion-MNIST (CPU, a few minutes).

    /usr/bin/python3 scripts/demo/train.py                       # resnet20
    /usr/bin/python3 scripts/demo/train.py --model resnet20_noshort
    /usr/bin/python3 scripts/demo/train.py --subset-only         # only the IDX test subset
    /usr/bin/python3 scripts/demo/train.py --model resnet56 --size 14 --epochs 4 --lr 0.02 --threads 1
    /usr/bin/python3 scripts/demo/train.py --model resnet56_noshort --size 14 --epochs 4 --lr 0.02 --threads 1

The model is the reference zoo's resnet20 (scripts/fixtures/zoo.py) with one
input channel, 28x28 inputs and 10 classes. The recipe is the reference's
(cifar10/main.py: init_params, SGD lr 0.1, momentum 0.9, Nesterov, weight decay
5e-4, batch 128, cross-entropy) shortened to a few epochs, with the learning
rate decayed by a cosine over all iterations instead of the 150/225/275 steps,
and without augmentation. Inputs are ToTensor-scaled to [0, 1] and normalised
with mean 0.2860, std 0.3530.

With --size 14 the images are first downsampled to 14x14: each output pixel is
the mean of a 2x2 block of the uint8 image, rounded half up to uint8
((a+b+c+d+2) // 4), so the data stays uint8 and is normalised as above. Any
zoo model can be named; the cifar ResNets end in a global average pool, so
they take 14x14 inputs unchanged (maps 14, 7, 4).

Outputs, in --out (default demo/assets):
  <model>-fashion.pt   torch zip checkpoint {'state_dict', 'acc', 'epoch'}
                       (acc: test accuracy in percent on the full 10,000-image
                       test split)
  t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz
                       the first 1000 images and labels of the test split, in
                       the original IDX format (header count 1000), gzipped
                       with mtime 0 so the bytes are reproducible.
With --size 14 the checkpoint is <model>-fashion14.pt and the IDX pair, with
the same standard names and 14x14 images, goes to the subfolder fashion14/.
"""

import argparse
import gzip
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures'))
import zoo  # noqa: E402

FASHION = '/usr/share/datasets/fashion-mnist'
MEAN, STD = 0.2860, 0.3530


def read_idx(path):
    """Read a (gzipped) IDX file into a numpy array."""
    with gzip.open(path, 'rb') as f:
        data = f.read()
    magic, = struct.unpack('>I', data[:4])
    if magic >> 8 != 0x08:
        raise ValueError('%s: not an unsigned-byte IDX file (magic %#x)' % (path, magic))
    ndim = magic & 0xff
    dims = struct.unpack('>%dI' % ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def write_idx(path, arr):
    """Write a uint8 array as a gzipped IDX file (mtime 0)."""
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack('>I', 0x0800 | arr.ndim) + struct.pack('>%dI' % arr.ndim, *arr.shape)
    with open(path, 'wb') as raw:
        with gzip.GzipFile(filename='', mode='wb', fileobj=raw, mtime=0) as f:
            f.write(header + arr.tobytes())


def downsample(x, size):
    """Shrink uint8 images (N, 28, 28) to (N, size, size) by averaging square
    blocks, rounded half up; size 28 returns x unchanged."""
    n, h, w = x.shape
    if size == h == w:
        return x
    if h % size or w % size or h // size != w // size:
        raise ValueError('cannot downsample %dx%d images to %dx%d' % (h, w, size, size))
    f = h // size
    s = x.reshape(n, size, f, size, f).astype(np.uint32).sum(axis=(2, 4))
    return ((s + f * f // 2) // (f * f)).astype(np.uint8)


def load_split(split, root=FASHION, size=28):
    """Return (x float32 (N,1,size,size) normalised, y int64 (N,)) for 'train' or 't10k'."""
    x = downsample(read_idx(os.path.join(root, '%s-images-idx3-ubyte.gz' % split)), size)
    y = read_idx(os.path.join(root, '%s-labels-idx1-ubyte.gz' % split))
    x = torch.from_numpy(x.astype(np.float32) / 255.0).unsqueeze(1)
    x = (x - MEAN) / STD
    return x, torch.from_numpy(y.astype(np.int64))


def evaluate(net, x, y, batch=500):
    """The reference's eval_loss: mean cross-entropy and accuracy in percent."""
    net.eval()
    total_loss, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            out = net(x[i:i + batch])
            yb = y[i:i + batch]
            total_loss += F.cross_entropy(out, yb).item() * len(yb)
            correct += out.argmax(1).eq(yb).sum().item()
    return total_loss / len(y), 100.0 * correct / len(y)


def write_subset(out, n=1000, size=28):
    x = downsample(read_idx(os.path.join(FASHION, 't10k-images-idx3-ubyte.gz'))[:n], size)
    y = read_idx(os.path.join(FASHION, 't10k-labels-idx1-ubyte.gz'))[:n]
    write_idx(os.path.join(out, 't10k-images-idx3-ubyte.gz'), x)
    write_idx(os.path.join(out, 't10k-labels-idx1-ubyte.gz'), y)
    print('wrote the first %d test images (%dx%d) and labels to %s' % (n, size, size, out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--model', default='resnet20')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--lr', type=float, default=0.1)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--out', default=os.path.normpath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'demo', 'assets')))
    ap.add_argument('--size', type=int, default=28, choices=(28, 14),
                    help='image side: 28 (original) or 14 (2x2 block means)')
    ap.add_argument('--subset-only', action='store_true')
    args = ap.parse_args()
    suffix = 'fashion' if args.size == 28 else 'fashion%d' % args.size
    subset_dir = args.out if args.size == 28 else os.path.join(args.out, suffix)
    os.makedirs(subset_dir, exist_ok=True)
    write_subset(subset_dir, size=args.size)
    if args.subset_only:
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr = load_split('train', size=args.size)
    xte, yte = load_split('t10k', size=args.size)

    net = zoo.build(args.model, in_channels=1, num_classes=10, height=args.size, width=args.size)
    zoo.init_params(net)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = (len(ytr) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    criterion = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        net.train()
        perm = torch.randperm(len(ytr), generator=gen)
        run_loss, run_correct, seen = 0.0, 0, 0
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch:(step + 1) * args.batch]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad()
            out = net(xb)
            loss = criterion(out, yb)
            loss.backward()
            opt.step()
            sched.step()
            run_loss += loss.item() * len(yb)
            run_correct += out.argmax(1).eq(yb).sum().item()
            seen += len(yb)
            if step % 100 == 0:
                print('epoch %d step %d/%d loss %.4f acc %.2f lr %.4f (%.0fs)' % (
                    epoch, step, steps_per_epoch, run_loss / seen, 100.0 * run_correct / seen,
                    sched.get_last_lr()[0], time.time() - t0), flush=True)
        te_loss, te_acc = evaluate(net, xte, yte)
        print('epoch %d train loss %.4f acc %.2f | test loss %.4f acc %.2f (%.0fs)' % (
            epoch, run_loss / seen, 100.0 * run_correct / seen, te_loss, te_acc, time.time() - t0),
            flush=True)

    sub_loss, sub_acc = evaluate(net, xte[:1000], yte[:1000])
    print('first 1000 test images: loss %.4f acc %.2f' % (sub_loss, sub_acc))
    path = os.path.join(args.out, '%s-%s.pt' % (args.model, suffix))
    torch.save({'state_dict': net.state_dict(), 'acc': te_acc, 'epoch': args.epochs}, path)
    print('saved %s (test acc %.2f%%, %.0fs)' % (path, te_acc, time.time() - t0))


if __name__ == '__main__':
    main()
