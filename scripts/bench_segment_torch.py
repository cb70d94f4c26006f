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
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from torch_nets import Trunk, peer_args, time_training


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
    a = peer_args(("--head-convs", 3))
    x, y, classes = load(a.data_dir, "train", a.images)
    model = Segmenter(a.width, a.fpn_width, a.head_convs, classes)

    def loss_of(i0, i1):
        xb, yb = (x[i0:i1] - 0.5) / 0.25, y[i0:i1]
        logits = model(xb)
        s = xb.shape[-1] // logits.shape[-1]
        return F.cross_entropy(logits, yb[:, ::s, ::s], ignore_index=255)

    time_training(model, loss_of, len(x), a, int(x.shape[-1]))


if __name__ == "__main__":
    main()
