"""PyTorch peer of the data-parallel benchmark: DistributedDataParallel over gloo on this machine.

Starts --world processes (torch.multiprocessing, gloo on 127.0.0.1), each with --threads threads,
training the same ResNet-20 as scripts/bench_torch.py on its --batch / --world samples of a
fixed synthetic batch (SGD lr 0.1, momentum 0.9, wd 5e-4; DDP's all-reduce of the gradients,
each replica's own batch norm); reports the global images/s as the median of 3 timed windows of
--steps steps (the first process's clock), as one JSON line.
Exit codes: 0 success, 2 bad arguments, 3 torch not importable.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import torch
    import torch.distributed as dist
    import torch.multiprocessing as mp
    import torch.nn.functional as F
except ImportError as e:
    print("bench_dp_torch: torch is not importable (%s); skipping the PyTorch peer" % e, file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_torch import ResNet20  # noqa: E402


def replica(rank, a, port, out):
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    torch.set_num_threads(a.threads)
    dist.init_process_group("gloo", rank=rank, world_size=a.world)
    torch.manual_seed(a.seed)
    c, h, w = 1, 28, 28
    model = torch.nn.parallel.DistributedDataParallel(ResNet20(c, 10, "A"))
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    b = a.batch // a.world
    g = torch.Generator().manual_seed(a.seed + rank)
    x, y = torch.randn(b, c, h, w, generator=g), torch.randint(0, 10, (b,), generator=g)

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        opt.step()

    for _ in range(a.warmup):
        step()
    windows = []
    for _ in range(3):
        dist.barrier()
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        dist.barrier()
        windows.append(a.steps * a.batch / (time.perf_counter() - t0))
    if rank == 0:
        out.put(statistics.median(windows))
    dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--threads", type=int, default=1, help="threads per process")
    p.add_argument("--batch", type=int, default=128, help="the global batch")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--port", type=int, default=29517)
    a = p.parse_args()
    if min(a.world, a.threads, a.steps) < 1 or a.batch % a.world:
        p.error("--world, --threads and --steps must be >= 1 and --world must divide --batch")
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    mp.spawn(replica, args=(a, a.port, out), nprocs=a.world, join=True)
    print(json.dumps({"peer": "pytorch-ddp-gloo", "torch": torch.__version__, "world": a.world,
                      "threads_per_process": a.threads, "batch": a.batch, "images_per_s": out.get()}))


if __name__ == "__main__":
    main()
