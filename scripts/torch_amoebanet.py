"""AmoebaNet-B in PyTorch, the peer of dropbench's nets/amoebanet.c for scripts/bench_torch.py.

Written here from nets/AMOEBANET.md (the official TensorFlow code's cells read in our words), not
from any PyTorch port: the same cells, stems, reductions and head, so that the parameter counts of
the two sides agree exactly (scripts/bench prints both). What differs is only what a PyTorch user
would write differently and what costs the same work: symmetric padding where TensorFlow's SAME
pads one more pixel at the bottom/right of an even map (the same output size and FLOPs), and a
ReLU computed once per state and shared by the ops that read it (as dropbench does).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

# model_specs.py, amoeba_net_b: pairs of (op, input state) making states 2..6; the unused states
# are the output
NORMAL = (("1x1", 1), ("max3", 1), ("none", 1), ("sep3", 0), ("1x1", 1), ("sep3", 0),
          ("1x1", 2), ("none", 2), ("avg3", 1), ("1x1", 5))
NORMAL_USED = (0, 1, 1, 0, 0, 1, 0)
REDUCTION = (("max2", 0), ("max3", 0), ("none", 2), ("3x3", 1), ("sep5", 2), ("max3", 2),
             ("none", 3), ("sep3", 1), ("avg3", 4), ("1x1", 3))
REDUCTION_USED = (1, 1, 1, 1, 1, 0, 0)
STEM_FILTERS = 32


def conv_bn(cin, cout, k=1, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


def same_out(h, stride):
    return -(-h // stride)


class FactorizedReduction(nn.Module):
    """stride 1: 1x1 conv + BN; stride 2: 1x1 convs to out/2 on pixels (2i,2j) and (2i+1,2j+1)
    (zero past the edge), concatenated, then BN"""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.stride = stride
        if stride == 1:
            self.conv = conv_bn(cin, cout)
        else:
            self.c1 = nn.Conv2d(cin, cout // 2, 1, bias=False)
            self.c2 = nn.Conv2d(cin, cout // 2, 1, bias=False)
            self.bn = nn.BatchNorm2d(cout)

    def forward(self, x):
        if self.stride == 1:
            return self.conv(x)
        shifted = F.pad(x, (0, 1, 0, 1))[:, :, 1::2, 1::2]
        return self.bn(torch.cat([self.c1(x[:, :, ::2, ::2]), self.c2(shifted)], 1))


class Op(nn.Module):
    """One cell operation; `pre_relu` says whether it reads the ReLU of its input state."""

    def __init__(self, kind, cin, f, stride):
        super().__init__()
        self.kind, self.pre_relu, self.identity = kind, True, False
        if kind in ("sep3", "sep5"):
            k = 3 if kind == "sep3" else 5
            layers = []
            for r in range(2):
                c = cin if r == 0 else f
                if r:
                    layers.append(nn.ReLU())
                layers += [nn.Conv2d(c, c, k, stride if r == 0 else 1, k // 2, groups=c, bias=False),
                           nn.Conv2d(c, f, 1, bias=False), nn.BatchNorm2d(f)]
            self.body = nn.Sequential(*layers)
        elif kind in ("max3", "max2", "avg3"):
            self.pre_relu = False
            if kind == "max2":
                pool = nn.MaxPool2d(2, stride, ceil_mode=True)
            elif kind == "max3":
                pool = nn.MaxPool2d(3, stride, 1)
            else:
                pool = nn.AvgPool2d(3, stride, 1, count_include_pad=False)
            self.body = pool if cin == f else nn.Sequential(pool, conv_bn(cin, f))
        elif kind == "none" and stride == 1 and cin == f:
            self.pre_relu, self.identity = False, True
        elif kind in ("none", "1x1"):
            self.body = conv_bn(cin, f, 1, stride)
        elif kind == "3x3":  # bottleneck: 1x1 to f/4, 3x3 (the stride), 1x1 back, each after a ReLU
            r = f // 4
            self.body = (conv_bn(cin, f, 3, stride) if r < 1 else
                         nn.Sequential(conv_bn(cin, r), nn.ReLU(), conv_bn(r, r, 3, stride), nn.ReLU(),
                                       conv_bn(r, f)))
        else:
            raise ValueError(kind)

    def forward(self, x):
        return x if self.identity else self.body(x)


class Cell(nn.Module):
    """network_utils.BaseCell: h0 = BN(1x1(ReLU(net))), h1 = prev brought to f channels at net's
    size, five pairwise sums, the unused states concatenated. Shapes are (channels, side)."""

    def __init__(self, spec, used, f, stride, net_shape, prev_shape):
        super().__init__()
        self.spec, self.used = spec, used
        self.base = conv_bn(net_shape[0], f)
        if prev_shape is None:
            self.prev, self.prev_relu = None, False
            h1 = net_shape
        elif prev_shape[1] != net_shape[1]:
            self.prev, self.prev_relu = FactorizedReduction(prev_shape[0], f, 2), True
            h1 = (f, net_shape[1])
        elif prev_shape[0] != f:
            self.prev, self.prev_relu = conv_bn(prev_shape[0], f), True
            h1 = (f, net_shape[1])
        else:
            self.prev, self.prev_relu = None, False
            h1 = prev_shape
        shapes = [(f, net_shape[1]), h1]
        self.ops = nn.ModuleList()
        for i in range(5):
            outs = []
            for kind, s in spec[2 * i:2 * i + 2]:
                st = stride if s < 2 else 1
                self.ops.append(Op(kind, shapes[s][0], f, st))
                outs.append((f, same_out(shapes[s][1], st)))
            shapes.append(outs[0])
        last = shapes[6]
        self.fix = nn.ModuleDict()
        for j in range(7):
            if not used[j] and shapes[j] != last:
                self.fix[str(j)] = FactorizedReduction(shapes[j][0], last[0],
                                                       2 if shapes[j][1] != last[1] else 1)
        self.out_shape = (sum(shapes[j][0] if str(j) not in self.fix else last[0]
                              for j in range(7) if not used[j]), last[1])

    def forward(self, net, prev):
        h1 = net if prev is None else prev
        if self.prev is not None:
            h1 = self.prev(F.relu(h1) if self.prev_relu else h1)
        states, relus = [self.base(F.relu(net)), h1], {}
        for i in range(5):
            y = 0
            for side in range(2):
                o = 2 * i + side
                s = self.spec[o][1]
                op = self.ops[o]
                if op.pre_relu:
                    if s not in relus:
                        relus[s] = F.relu(states[s])
                    y = y + op(relus[s])
                else:
                    y = y + op(states[s])
            states.append(y)
        outs = [self.fix[str(j)](states[j]) if str(j) in self.fix else states[j]
                for j in range(7) if not self.used[j]]
        return torch.cat(outs, 1)


class AmoebaNetB(nn.Module):
    """cells: normal cells in all (3N); width: F; stem 'i' (ImageNet: 3x3/2 VALID then two
    reduction cells at F/4 and F/2) or 'b' (basic: 3x3/1 VALID)."""

    def __init__(self, in_ch, side, num_classes, cells=18, width=256, stem=None, dense_keep=0.5):
        super().__init__()
        stem = stem or ("i" if side >= 128 else "b")
        stride = 2 if stem == "i" else 1
        self.conv0 = nn.Sequential(nn.Conv2d(in_ch, STEM_FILTERS, 3, stride, 0, bias=False),
                                   nn.BatchNorm2d(STEM_FILTERS))
        shape, prev = (STEM_FILTERS, (side - 3) // stride + 1), None
        self.cells = nn.ModuleList()

        def add(spec, used, f, st):
            nonlocal shape, prev
            c = Cell(spec, used, f, st, shape, prev)
            self.cells.append(c)
            prev, shape = shape, c.out_shape

        n_stem = 2 if stem == "i" else 0
        for s in range(n_stem):
            add(REDUCTION, REDUCTION_USED, int(width * 0.25 * 2 ** s), 2)
        reductions = sorted({int((k + 1) / 3 * cells) for k in range(2)})
        scaling = 1
        for i in range(cells):
            if i in reductions:
                scaling *= 2
                add(REDUCTION, REDUCTION_USED, width * scaling, 2)
            add(NORMAL, NORMAL_USED, width * scaling, 1)
        self.dropout = nn.Dropout(1 - dense_keep)
        self.fc = nn.Linear(shape[0], num_classes)

    def forward(self, x):
        net, prev = self.conv0(x), None
        for c in self.cells:
            net, prev = c(net, prev), net
        return self.fc(self.dropout(torch.flatten(F.adaptive_avg_pool2d(F.relu(net), 1), 1)))
