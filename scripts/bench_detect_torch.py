#!/usr/bin/env python3
"""The PyTorch peer of scripts/bench_detect: torchvision's RetinaNet on the same images.

torchvision.models.detection.RetinaNet with a ResNet-18-shaped backbone of the given width
(torchvision's BasicBlock; 16/32/64/128 channels at width 16), torchvision's FPN on C3-C5 with
P6 and P7 from P5 (LastLevelP6P7, as the official code), its default heads (4 convolutions each,
no normalisation) and anchors (3 scales x 3 ratios per level), on the first --images images of a
COCO-style split (grey PNGs, dropbench data make fmnist-detect) at their own size (no resizing),
SGD, --threads threads. Prints one JSON line: {"images_per_s": ...} over --steps steps after
--warmup steps.
"""
import json
import os

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision.models.detection import RetinaNet
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelP6P7

from torch_nets import Trunk, peer_args, time_training


class Backbone(nn.Module):
    """ResNet-18's shape at width w on 1-channel input; returns C3..C5 through an FPN"""

    def __init__(self, w, fpn):
        super().__init__()
        self.trunk = Trunk(w)
        self.fpn = FeaturePyramidNetwork([2 * w, 4 * w, 8 * w], fpn, extra_blocks=LastLevelP6P7(fpn, fpn))
        self.out_channels = fpn

    def forward(self, x):
        c = self.trunk(x)
        return self.fpn({str(i): c[i] for i in (1, 2, 3)})


def load(folder, split, n):
    ann = json.load(open(os.path.join(folder, "annotations", "instances_%s.json" % split)))
    images = sorted(ann["images"], key=lambda im: im["id"])[:n]
    cats = sorted(c["id"] for c in ann["categories"])
    by_image = {}
    for a in ann["annotations"]:
        x, y, w, h = a["bbox"]
        if a.get("iscrowd") or w <= 0 or h <= 0:
            continue
        by_image.setdefault(a["image_id"], []).append(([x, y, x + w, y + h], cats.index(a["category_id"])))
    data = []
    for im in images:
        px = np.asarray(Image.open(os.path.join(folder, im["file_name"])), dtype=np.float32) / 255.0
        boxes = by_image.get(im["id"], [])
        data.append((torch.from_numpy(px)[None],
                     {"boxes": torch.tensor([b for b, _ in boxes], dtype=torch.float32).reshape(-1, 4),
                      "labels": torch.tensor([c for _, c in boxes], dtype=torch.int64)}))
    return data, len(cats)


def main():
    a = peer_args()
    data, classes = load(a.data_dir, "train", a.images)
    size = data[0][0].shape[-1]
    anchors = AnchorGenerator(tuple((s, int(s * 2 ** (1 / 3)), int(s * 2 ** (2 / 3))) for s in (32, 64, 128, 256, 512)),
                              ((0.5, 1.0, 2.0),) * 5)
    model = RetinaNet(Backbone(a.width, a.fpn_width), num_classes=classes, min_size=size, max_size=size,
                      image_mean=[0.5], image_std=[0.25], anchor_generator=anchors)

    def loss_of(i0, i1):
        batch = data[i0:i1]
        return sum(model([x for x, _ in batch], [t for _, t in batch]).values())

    time_training(model, loss_of, len(data), a, size)


if __name__ == "__main__":
    main()
