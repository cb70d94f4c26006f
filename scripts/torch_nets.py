"""PyTorch pieces shared by the benchmark peers (scripts/bench_*_torch.py): dropbench's networks
built alike in PyTorch, to time the same work."""
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
