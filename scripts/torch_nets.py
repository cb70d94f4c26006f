"""PyTorch pieces shared by the benchmark peers (scripts/bench_*_torch.py): dropbench's networks
built alike in PyTorch, to time the same work."""
import argparse
import json
import time

import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock


class Trunk(nn.Module):
    """ResNet-18's shape at width w (torchvision's BasicBlock; w, 2w, 4w, 8w channels) on
    c-channel input; returns the outputs of its four groups (C2..C5, strides 4..32)"""

    def __init__(self, w, c=1):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(c, w, 7, 2, 3, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1))
        layers, cin = [], w
        for i in range(4):
            cout = w << i
            stride = 1 if i == 0 else 2
            down = None if stride == 1 and cin == cout else nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
            layers.append(nn.Sequential(BasicBlock(cin, cout, stride, down), BasicBlock(cout, cout)))
            cin = cout
        self.layers = nn.ModuleList(layers)

    def forward(self, x):
        x = self.stem(x)
        out = []
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out


def peer_args(*extra):
    """The peers' common options (data, images, width, FPN width, batch, threads, warm-up and
    timed steps), extra (name, default) integer options added; parsed, threads and seed set"""
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    for name, default in (("--images", 512), ("--width", 16), ("--fpn-width", 32)) + extra + (
            ("--batch", 32), ("--threads", 2), ("--warmup", 2), ("--steps", 10)):
        p.add_argument(name, type=int, default=default)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    return a


def time_training(model, loss_of, n, a, size):
    """SGD steps on batches of a.batch taken in turn from n samples (loss_of(i0, i1): the batch's
    loss), a.warmup untimed then a.steps timed; prints the JSON line the drivers read"""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    t0, done = None, 0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            t0 = time.perf_counter()
        i0 = (step * a.batch) % (n - a.batch + 1)
        loss = loss_of(i0, i0 + a.batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= a.warmup:
            done += a.batch
    secs = time.perf_counter() - t0
    print(json.dumps({"images_per_s": done / secs, "torch": torch.__version__, "torchvision": torchvision.__version__,
                      "threads": a.threads, "batch": a.batch, "size": size}))
