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

Other data and devices (for training elsewhere, e.g. on a GPU machine without
the Debian dataset):
  --data DIR       read the four standard-named IDX files from DIR instead of
                   /usr/share/datasets/fashion-mnist; they may hold 28x28 images
                   or, for --size 14 only, images already downsampled to 14x14
                   (the size is read from the IDX header; they are used as is)
  --export14 DIR   write the four standard-named IDX files of --data, train and
                   test downsampled as --size 14 does (gzip mtime 0), to DIR,
                   then exit: about 10 MB to ship instead of 30 MB
  --device cuda    train and evaluate on the GPU (the training set is kept on
                   the device; the batch order is the CPU path's); --threads
                   stays the number of CPU threads and checkpoints hold CPU
                   tensors, as on the CPU

    /usr/bin/python3 scripts/demo/train.py --export14 /tmp/f14
    python3 scripts/demo/train.py --model resnet56 --size 14 --epochs 30 --device cuda --data /tmp/f14 --out out14
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


def read_images(path, size=28):
    """Read an IDX image file as uint8 (N, size, size): 28x28 images are
    downsampled as needed, images that already are size x size are returned as
    they are (so 14x14 files made by --export14 are not shrunk twice)."""
    x = read_idx(path)
    if x.ndim != 3:
        raise ValueError('%s: not an IDX image file (%d dimensions)' % (path, x.ndim))
    n, h, w = x.shape
    if h == w == size:
        return x
    if h < size or w < size:
        raise ValueError('%s: holds %dx%d images, cannot give %dx%d (use 28x28 files)' % (
            path, h, w, size, size))
    return downsample(x, size)


def load_split(split, root=FASHION, size=28):
    """Return (x float32 (N,1,size,size) normalised, y int64 (N,)) for 'train' or 't10k'."""
    x = read_images(os.path.join(root, '%s-images-idx3-ubyte.gz' % split), size)
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


def write_subset(out, n=1000, size=28, root=FASHION):
    x = read_images(os.path.join(root, 't10k-images-idx3-ubyte.gz'), size)[:n]
    y = read_idx(os.path.join(root, 't10k-labels-idx1-ubyte.gz'))[:n]
    write_idx(os.path.join(out, 't10k-images-idx3-ubyte.gz'), x)
    write_idx(os.path.join(out, 't10k-labels-idx1-ubyte.gz'), y)
    print('wrote the first %d test images (%dx%d) and labels to %s' % (n, size, size, out))


def export14(root, out):
    """Write the four standard-named IDX files of root, images downsampled to
    14x14 as --size 14 does, to out (gzip mtime 0); return the bytes written."""
    os.makedirs(out, exist_ok=True)
    total = 0
    for split in ('train', 't10k'):
        for kind, name in (('images', '%s-images-idx3-ubyte.gz'), ('labels', '%s-labels-idx1-ubyte.gz')):
            src = os.path.join(root, name % split)
            arr = read_images(src, 14) if kind == 'images' else read_idx(src)
            dst = os.path.join(out, name % split)
            write_idx(dst, arr)
            size = os.path.getsize(dst)
            total += size
            print('wrote %s: %s uint8, %d bytes raw, %d bytes gzipped' % (
                dst, 'x'.join(map(str, arr.shape)), arr.size, size))
    print('wrote %d bytes to %s' % (total, out))
    return total


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
    ap.add_argument('--data', default=FASHION, metavar='DIR',
                    help='folder of the four standard-named IDX files, 28x28 or (for --size 14) '
                         '14x14 images (default %(default)s)')
    ap.add_argument('--export14', metavar='OUTDIR',
                    help='write the --data files with 14x14 images (as --size 14) to OUTDIR and exit')
    ap.add_argument('--device', default='cpu', choices=('cpu', 'cuda'),
                    help='where the model, batches and evaluation run (default cpu)')
    ap.add_argument('--limit', type=int, default=0, metavar='N',
                    help='train on the first N training images only (smoke tests)')
    args = ap.parse_args()
    if args.export14:
        try:
            export14(args.data, args.export14)
        except ValueError as e:
            ap.error(str(e))
        return
    if args.device == 'cuda' and not torch.cuda.is_available():
        ap.error('--device cuda: torch %s sees no CUDA device' % torch.__version__)
    suffix = 'fashion' if args.size == 28 else 'fashion%d' % args.size
    subset_dir = args.out if args.size == 28 else os.path.join(args.out, suffix)
    os.makedirs(subset_dir, exist_ok=True)
    try:
        write_subset(subset_dir, size=args.size, root=args.data)
    except ValueError as e:
        ap.error(str(e))
    if args.subset_only:
        return

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cuda = args.device == 'cuda'
    if cuda:
        torch.backends.cudnn.benchmark = False
    xtr, ytr = load_split('train', root=args.data, size=args.size)
    xte, yte = load_split('t10k', root=args.data, size=args.size)
    if args.limit > 0:
        xtr, ytr = xtr[:args.limit], ytr[:args.limit]

    # Built and initialised on the CPU, so the initial weights are the same on
    # every device; then the model and the whole data set move to the device.
    net = zoo.build(args.model, in_channels=1, num_classes=10, height=args.size, width=args.size)
    zoo.init_params(net)
    if cuda:
        net.to(args.device)
        xtr, ytr = xtr.to(args.device), ytr.to(args.device)
        xte, yte = xte.to(args.device), yte.to(args.device)
    opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=5e-4)
    steps_per_epoch = (len(ytr) + args.batch - 1) // args.batch
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs * steps_per_epoch)
    criterion = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)

    t0 = time.time()
    for epoch in range(1, args.epochs + 1):
        net.train()
        # The permutation comes from the same CPU generator on every device,
        # so the batches are the CPU path's; on cuda it is copied once per
        # epoch and the batches are gathered from the resident data set.
        perm = torch.randperm(len(ytr), generator=gen)
        if cuda:
            perm = perm.to(args.device)
        run_loss, run_correct, seen = 0.0, 0, 0
        if cuda:
            # Running sums stay on the device (float64, the same sums as the
            # CPU path's Python floats) so a step does not wait for the GPU.
            run_loss = torch.zeros((), dtype=torch.float64, device=args.device)
            run_correct = torch.zeros((), dtype=torch.int64, device=args.device)
        for step in range(steps_per_epoch):
            idx = perm[step * args.batch:(step + 1) * args.batch]
            xb, yb = xtr[idx], ytr[idx]
            opt.zero_grad()
            out = net(xb)
            loss = criterion(out, yb)
            loss.backward()
            opt.step()
            sched.step()
            if cuda:
                run_loss += loss.detach().double() * len(yb)
                run_correct += out.argmax(1).eq(yb).sum()
            else:
                run_loss += loss.item() * len(yb)
                run_correct += out.argmax(1).eq(yb).sum().item()
            seen += len(yb)
            if step % 100 == 0:
                print('epoch %d step %d/%d loss %.4f acc %.2f lr %.4f (%.0fs)' % (
                    epoch, step, steps_per_epoch, run_loss / seen, 100.0 * run_correct / seen,
                    sched.get_last_lr()[0], time.time() - t0), flush=True)
        if cuda:
            run_loss, run_correct = run_loss.item(), run_correct.item()
        te_loss, te_acc = evaluate(net, xte, yte)
        print('epoch %d train loss %.4f acc %.2f | test loss %.4f acc %.2f (%.0fs)' % (
            epoch, run_loss / seen, 100.0 * run_correct / seen, te_loss, te_acc, time.time() - t0),
            flush=True)

    sub_loss, sub_acc = evaluate(net, xte[:1000], yte[:1000])
    print('first 1000 test images: loss %.4f acc %.2f' % (sub_loss, sub_acc))
    net.to('cpu')  # the checkpoint holds CPU tensors on every device
    path = os.path.join(args.out, '%s-%s.pt' % (args.model, suffix))
    torch.save({'state_dict': net.state_dict(), 'acc': te_acc, 'epoch': args.epochs}, path)
    print('saved %s (test acc %.2f%%, %.0fs)' % (path, te_acc, time.time() - t0))


if __name__ == '__main__':
    main()
