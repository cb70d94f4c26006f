#!/usr/bin/env python3
"""The PyTorch peer of scripts/bench_segment: dropbench's segmenter built alike in PyTorch on
the same images.

A ResNet-18-shaped trunk of the given width (scripts/torch_nets.py), an FPN on C3-C5 (lateral
1x1, top-down bilinear resizing with aligned corners, 3x3 after each, batch norm per level), the
official FCN head shared over the levels (--head-convs x (3x3, batch norm per level, ReLU), a
3x3 with a bias), P4 and P5 resized to P3 and summed, batch norm, ReLU, a 3x3 to the classes;
softmax cross-entropy against the labels at every 8th pixel, 255 ignored; SGD, --threads
threads, on the first --images canvases and label maps of a set made by dropbench data make
fmnist-detect. Prints one JSON line: {"images_per_s": ...} over --steps steps after --warmup.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from PIL import Image
from torch import nn

from torch_nets import Trunk


def resize(x, like):
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=True)


class Segmenter(nn.Module):
    def __init__(self, w, fpn, head_convs, classes):
        super().__init__()
        self.trunk = Trunk(w)
        self.lateral = nn.ModuleList(nn.Conv2d(c, fpn, 1) for c in (2 * w, 4 * w, 8 * w))
        self.post = nn.ModuleList(nn.Conv2d(fpn, fpn, 3, padding=1) for _ in range(3))
        self.fpn_bn = nn.ModuleList(nn.BatchNorm2d(fpn) for _ in range(3))
        self.head = nn.ModuleList(nn.Conv2d(fpn, fpn, 3, padding=1, bias=False) for _ in range(head_convs))
        self.head_bn = nn.ModuleList(nn.ModuleList(nn.BatchNorm2d(fpn) for _ in range(head_convs)) for _ in range(3))
        self.final = nn.Conv2d(fpn, fpn, 3, padding=1)
        self.fuse_bn = nn.BatchNorm2d(fpn)
        self.predict = nn.Conv2d(fpn, classes, 3, padding=1)

    def forward(self, x):
        c = self.trunk(x)[1:]
        p = [None, None, self.lateral[2](c[2])]
        for i in (1, 0):
            p[i] = self.lateral[i](c[i]) + resize(p[i + 1], c[i])
        p = [self.fpn_bn[i](self.post[i](p[i])) for i in range(3)]
        fused = None
        for i in range(3):
            h = p[i]
            for k, conv in enumerate(self.head):
                h = F.relu(self.head_bn[i][k](conv(h)))
            h = self.final(h)
            fused = h if fused is None else fused + resize(h, fused)
        return self.predict(F.relu(self.fuse_bn(fused)))


def load(folder, split, n):
    ann = json.load(open(os.path.join(folder, "annotations", "instances_%s.json" % split)))
    images = sorted(ann["images"], key=lambda im: im["id"])[:n]
    x = np.stack([np.asarray(Image.open(os.path.join(folder, im["file_name"])), dtype=np.float32) / 255.0
                  for im in images])
    y = np.stack([np.asarray(Image.open(os.path.join(folder, "segmentation", im["file_name"])), dtype=np.int64)
                  for im in images])
    return torch.from_numpy(x)[:, None], torch.from_numpy(y), len(ann["categories"]) + 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data-dir", required=True)
    p.add_argument("--images", type=int, default=512)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--fpn-width", type=int, default=32)
    p.add_argument("--head-convs", type=int, default=3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--steps", type=int, default=10)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    x, y, classes = load(a.data_dir, "train", a.images)
    model = Segmenter(a.width, a.fpn_width, a.head_convs, classes)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    t0, done = None, 0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            t0 = time.perf_counter()
        i0 = (step * a.batch) % (len(x) - a.batch + 1)
        xb, yb = (x[i0:i0 + a.batch] - 0.5) / 0.25, y[i0:i0 + a.batch]
        logits = model(xb)
        s = xb.shape[-1] // logits.shape[-1]
        loss = F.cross_entropy(logits, yb[:, ::s, ::s], ignore_index=255)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step >= a.warmup:
            done += len(xb)
    secs = time.perf_counter() - t0
    print(json.dumps({"images_per_s": done / secs, "torch": torch.__version__, "torchvision": torchvision.__version__,
                      "threads": a.threads, "batch": a.batch, "size": int(x.shape[-1])}))


if __name__ == "__main__":
    main()
