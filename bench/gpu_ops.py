#!/usr/bin/python3
"""PyTorch's GPU time for the operations of a ViT-B/16 batch, one by one:
what the graph interpreter's profile (bench/gpu.py --profile, the GPU
check's step 7), which times its own by node, is to be read against.

The shapes are vit_b_16's at 32x32 images (5 tokens a sample) for a batch of
--batch samples (939, the interpreter's batch on an H200): the four linear
layers as nn.Linear computes them (x @ W.T), the same with the weight
transposed beforehand (x @ Wt, the layout of an ONNX MatMul), with the bias
in the product (addmm) and added after (y + b); a residual addition, exact
GELU, layer norm, attention's batched products and a transpose of the
tokens. FP32, TF32 off. Each is timed with CUDA events, the median of
--reps runs after three untimed ones.

On an H200 (2026-12-04): in_proj x@W.T 415 us, mlp.0 509-579 us, mlp.3
501-536 us, out_proj 148 us; y + b 18-53 us; residual add 15 us; GELU 37 us;
layer norm 25 us; attention's bmm 40-56 us; the transpose 21 us.

    python3 bench/gpu_ops.py [--batch 939] [--reps 30]
"""
import argparse
import statistics

import torch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--batch', type=int, default=939, help='samples a batch (5 tokens each)')
    ap.add_argument('--reps', type=int, default=30)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = 'cuda'

    def timed(name, f):
        for _ in range(3):
            f()
        torch.cuda.synchronize()
        ts = []
        for _ in range(args.reps):
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            f()
            b.record()
            b.synchronize()
            ts.append(a.elapsed_time(b) * 1e3)
        print('%-44s %9.1f us' % (name, statistics.median(ts)))

    print('%s, PyTorch %s, batch %d (%d tokens)' % (torch.cuda.get_device_name(), torch.__version__, args.batch, 5 * args.batch))
    tokens = 5 * args.batch
    x, h = torch.randn(tokens, 768, device=dev), torch.randn(tokens, 3072, device=dev)
    for name, (out, inp) in {'in_proj': (2304, 768), 'mlp.0': (3072, 768), 'mlp.3': (768, 3072), 'out_proj': (768, 768)}.items():
        w = torch.randn(out, inp, device=dev)
        wt, b = w.t().contiguous(), torch.randn(out, device=dev)
        a = x if inp == 768 else h
        timed(name + ' x @ W.T (nn.Linear)', lambda: a @ w.t())
        timed(name + ' x @ Wt (ONNX MatMul)', lambda: a @ wt)
        timed(name + ' addmm (bias in the product)', lambda: torch.addmm(b, a, w.t()))
        y = a @ w.t()
        timed(name + ' y + b (bias after)', lambda: y + b)
    timed('residual add', lambda: x + x)
    timed('gelu (exact)', lambda: torch.nn.functional.gelu(h))
    timed('layer norm', lambda: torch.nn.functional.layer_norm(x, (768,)))
    q = torch.randn(12 * args.batch, 5, 64, device=dev)
    kt = torch.randn(12 * args.batch, 64, 5, device=dev)
    s = torch.randn(12 * args.batch, 5, 5, device=dev)
    timed('bmm q @ kT (kT contiguous)', lambda: torch.bmm(q, kt))
    timed('bmm q @ k.transpose (strided)', lambda: torch.bmm(q, q.transpose(1, 2)))
    timed('bmm softmax @ v', lambda: torch.bmm(s, q))
    x3 = torch.randn(args.batch, 5, 768, device=dev)
    timed('transpose (B,5,768) to (5,B,768)', lambda: x3.transpose(0, 1).contiguous())


if __name__ == '__main__':
    main()
