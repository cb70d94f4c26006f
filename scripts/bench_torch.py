#!/usr/bin/env python3
"""PyTorch peer for the dropbench training-throughput benchmark.

Times training steps (forward, softmax cross-entropy, backward, SGD lr 0.1,
momentum 0.9, wd 5e-4) on a fixed synthetic batch; reports images/s as the
median of 3 timed windows of --steps steps each.
Exit codes: 0 success, 2 bad arguments, 3 torch not importable.
"""
import argparse
import json
import statistics
import sys
import os
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print("bench_torch: torch is not importable (%s); skipping PyTorch peer" % e,
          file=sys.stderr)
    sys.exit(3)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_amoebanet import AmoebaNetB  # noqa: E402


def conv3x3(cin, cout, stride=1):
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


# ---------------------------------------------------------------- ResNet-20
class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, shortcut):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(cin, cout, stride), nn.BatchNorm2d(cout)
        self.conv2, self.bn2 = conv3x3(cout, cout), nn.BatchNorm2d(cout)
        self.reshape = stride != 1 or cin != cout
        self.stride, self.extra = stride, cout - cin
        self.proj = None
        if self.reshape and shortcut == "B":
            self.proj = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout))

    def shortcut(self, x):
        if not self.reshape:
            return x
        if self.proj is not None:
            return self.proj(x)
        # Option A: subsample spatially, append zero channels after existing ones.
        x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet20(nn.Module):
    def __init__(self, in_ch, num_classes=10, shortcut="A", n=3):
        super().__init__()
        self.conv1, self.bn1 = conv3x3(in_ch, 16), nn.BatchNorm2d(16)
        layers, cin = [], 16
        for gi, cout in enumerate((16, 32, 64)):
            for bi in range(n):
                stride = 2 if (gi > 0 and bi == 0) else 1
                layers.append(BasicBlock(cin, cout, stride, shortcut))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layers(F.relu(self.bn1(self.conv1(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------- ResNet-18 and -50
class Bottleneck(nn.Module):
    """torchvision-style v1 bottleneck (stride on the 3x3 conv)."""

    def __init__(self, cin, width, stride):
        super().__init__()
        cout = width * 4
        self.conv1, self.bn1 = nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width)
        self.conv2, self.bn2 = conv3x3(width, width, stride), nn.BatchNorm2d(width)
        self.conv3, self.bn3 = nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        idt = x if self.downsample is None else self.downsample(x)
        return F.relu(out + idt)


class ImageNetResNet(nn.Module):
    """torchvision's ResNet-18 (basic blocks, projection shortcuts) and ResNet-50 (bottlenecks)."""

    def __init__(self, deep, blocks, in_ch=3, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        layers, cin = [], 64
        for gi, (width, n) in enumerate(zip((64, 128, 256, 512), blocks)):
            for bi in range(n):
                stride = 2 if (gi > 0 and bi == 0) else 1
                if deep:
                    layers.append(Bottleneck(cin, width, stride))
                    cin = width * 4
                else:
                    layers.append(BasicBlock(cin, width, stride, "B"))
                    cin = width
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


# ---------------------------------------------------------------- driver
def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=("resnet20", "resnet18", "resnet50", "amoebanet-b"), default="resnet20")
    p.add_argument("--input", default=None, help="C,H,W (default 1,28,28; "
                   "3,224,224 for resnet18 and resnet50)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--shortcut", choices=("A", "B"), default="A",
                   help="resnet20 shortcut option (default A)")
    p.add_argument("--cells", type=int, default=18,
                   help="amoebanet-b: normal cells in all (3N), as dropbench bench --cells")
    p.add_argument("--width", type=int, default=256, help="amoebanet-b: F, as dropbench bench --width")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                   help="cuda: the batch is uploaded from pinned memory and the "
                   "loss read back every step, as a training loop does")
    p.add_argument("--tf32", action="store_true",
                   help="cuda: allow TF32 in convolutions and matmuls (default fp32)")
    p.add_argument("--bf16", action="store_true",
                   help="cuda: bf16 autocast with fp32 master weights, model and batch channels_last "
                   "(PyTorch's usual mixed precision)")
    p.add_argument("--profile", action="store_true",
                   help="cuda: after timing, one more window under torch.profiler; its kernels' "
                   "time per step on stderr, the 25 slowest")
    p.add_argument("--cudnn-benchmark", action="store_true",
                   help="cuda: torch.backends.cudnn.benchmark (each shape's algorithms measured once, "
                   "as dropbench's GPU graph does)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    if a.input is None:
        a.input = "1,28,28" if a.model in ("resnet20", "amoebanet-b") else "3,224,224"
    try:
        a.input = [int(v) for v in a.input.split(",")]
        assert len(a.input) == 3 and min(a.input) > 0
    except (ValueError, AssertionError):
        p.error("--input must be C,H,W with positive integers")
    if min(a.batch, a.threads, a.steps) < 1 or a.warmup < 0:
        p.error("--batch/--threads/--steps must be >= 1, --warmup >= 0")
    return a


def main(argv=None):
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already set / parallel work started
        pass
    torch.manual_seed(a.seed)
    c, h, w = a.input
    if a.model == "resnet20":
        model, ncls = ResNet20(c, 10, a.shortcut), 10
    elif a.model == "amoebanet-b":
        model, ncls = AmoebaNetB(c, h, 10, a.cells, a.width), 10
    elif a.model == "resnet18":
        model, ncls = ImageNetResNet(False, (2, 2, 2, 2), c, 1000), 1000
    else:
        model, ncls = ImageNetResNet(True, (3, 4, 6, 3), c, 1000), 1000
    model.train()  # BN uses batch statistics, as in training
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                          weight_decay=5e-4)
    x, y = torch.randn(a.batch, c, h, w), torch.randint(0, ncls, (a.batch,))
    cuda = a.device == "cuda"
    if cuda:
        torch.backends.cudnn.allow_tf32 = a.tf32
        torch.backends.cudnn.benchmark = a.cudnn_benchmark
        torch.backends.cuda.matmul.allow_tf32 = a.tf32
        model.cuda()
        if a.bf16:
            model = model.to(memory_format=torch.channels_last)
            x = x.contiguous(memory_format=torch.channels_last)
        x, y = x.pin_memory(), y.pin_memory()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9,
                              weight_decay=5e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        if cuda:
            xd = x.to("cuda", non_blocking=True)
            yd = y.to("cuda", non_blocking=True)
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=a.bf16):
                loss = F.cross_entropy(model(xd), yd)
            loss.backward()
            opt.step()
            loss.item()
        else:
            F.cross_entropy(model(x), y).backward()
            opt.step()

    for _ in range(a.warmup):
        step()
    windows = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            step()
        if cuda:
            torch.cuda.synchronize()
        windows.append(time.perf_counter() - t0)
    if cuda and a.profile:
        from torch.profiler import profile, ProfilerActivity
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            for _ in range(a.steps):
                step()
            torch.cuda.synchronize()
        rows = [e for e in prof.key_averages() if e.device_time_total > 0]
        rows.sort(key=lambda e: -e.device_time_total)
        total = sum(e.device_time_total for e in rows)
        print(f"PyTorch kernels: {total / 1000 / a.steps:.3f} ms of GPU time per step", file=sys.stderr)
        for e in rows[:25]:
            print(f"  {e.device_time_total / 1000 / a.steps:8.3f} ms {100 * e.device_time_total / total:5.1f}%  "
                  f"x{e.count // a.steps:<4} {e.key[:110]}", file=sys.stderr)
    sec = statistics.median(windows)
    ips, ms = a.batch * a.steps / sec, 1000.0 * sec / a.steps
    res = {"peer": "pytorch", "torch_version": torch.__version__,
           "model": a.model, "input": a.input, "batch": a.batch,
           "threads": a.threads, "images_per_s": round(ips, 2),
           "ms_per_step": round(ms, 3),
           "mkldnn": bool(torch.backends.mkldnn.is_available()),
           "params": params, "device": a.device}
    if cuda:
        res["gpu"] = torch.cuda.get_device_name(0)
        res["tf32"] = a.tf32
        res["bf16"] = a.bf16
    if a.model == "resnet20": res["shortcut"] = a.shortcut
    if a.model == "amoebanet-b": res.update(cells=a.cells, width=a.width)
    if a.json:
        print(json.dumps(res))
    else:
        print("pytorch %s %s input %s batch %d threads %d: %.1f images/s "
              "(%.2f ms/step, %d params, mkldnn=%s)"
              % (torch.__version__, a.model, "x".join(map(str, a.input)),
                 a.batch, a.threads, ips, ms, params, res["mkldnn"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
