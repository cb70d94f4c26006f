#!/usr/bin/env python3
"""PyTorch peer for `dropbench kernel dropblock`: DropBlock the way the TF reference code and
the PyTorch ports build it, by max-pooling a seed map (paper semantics, odd block sizes):
seeds drawn on the valid (H-k+1)x(W-k+1) grid, zero-padded by k//2, max-pooled with a k x k
window at stride 1, inverted into the keep mask, output = x * mask * numel / kept.
Times forward + backward (autograd, the mask held) over --reps calls after one warm-up and
prints one JSON object: ms_per_call, drop_fraction, torch_version.
Exit codes: 0 success, 2 bad arguments, 3 torch not importable.
"""
import argparse
import json
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print("bench_kernel_torch: torch is not importable (%s)" % e, file=sys.stderr)
    sys.exit(3)


def dropblock(x, keep_prob, k):
    n, c, h, w = x.shape
    gamma = (1.0 - keep_prob) * h * w / (k * k) / ((h - k + 1) * (w - k + 1))
    seeds = (torch.rand(n, c, h - k + 1, w - k + 1) < gamma).float()
    seeds = F.pad(seeds, [k // 2] * 4)
    keep = 1.0 - F.max_pool2d(seeds, k, stride=1, padding=k // 2)
    kept = keep.sum()
    return x * keep * (keep.numel() / kept.clamp(min=1.0)), kept


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", required=True, help="N,C,H,W")
    p.add_argument("--keep-prob", type=float, default=0.9)
    p.add_argument("--block-size", type=int, default=7)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    try:
        n, c, h, w = (int(v) for v in a.shape.split(","))
    except ValueError:
        p.error("--shape wants N,C,H,W")
    if a.block_size % 2 == 0 or a.block_size > min(h, w) or not 0 < a.keep_prob <= 1 or a.reps < 1:
        p.error("odd --block-size within the map, --keep-prob in (0, 1], --reps >= 1")
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x = torch.rand(n, c, h, w) - 0.5
    x.requires_grad_(True)
    g = torch.rand(n, c, h, w) - 0.5
    dropped = 0.0
    for r in range(-1, a.reps):  # r = -1: warm-up
        if r == 0:
            t0 = time.perf_counter()
            dropped = 0.0
        y, kept = dropblock(x, a.keep_prob, a.block_size)
        y.backward(g)
        x.grad = None
        dropped += 1.0 - kept.item() / y.numel()
    ms = (time.perf_counter() - t0) / a.reps * 1e3
    print(json.dumps({"ms_per_call": ms, "drop_fraction": dropped / a.reps, "torch_version": torch.__version__,
                      "threads": a.threads}))


if __name__ == "__main__":
    main()
