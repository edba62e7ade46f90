#!/usr/bin/env python3
"""Makes squeezenet_fmnist.onnx: the search's built-in SqueezeNet (sw/enos/search/builtin_nets.cpp) as a PyTorch
model exported to ONNX, for bench_search_onnx (search epoch cost of an imported network vs the same network built
in-tree). Conv + BatchNorm + ReLU per layer, Fire modules (squeeze 1x1, expand 1x1 and 3x3, concatenated),
MaxPool 2, GlobalAveragePool, Linear 48 -> 10; 1 x 28 x 28 input. Untrained (seed 1): only the cost is measured.

Usage: /usr/bin/python3 make_squeezenet_onnx.py [OUT]   (Debian python3-torch, python3-onnx)
"""
import os
import sys

import torch
import torch.nn as nn


def cbr(cin, cout, k, pad=0):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=pad), nn.BatchNorm2d(cout), nn.ReLU())


class Fire(nn.Module):
    def __init__(self, cin, sq, ex):
        super().__init__()
        self.sq = cbr(cin, sq, 1)
        self.e1 = cbr(sq, ex, 1)
        self.e3 = cbr(sq, ex, 3, 1)

    def forward(self, x):
        s = self.sq(x)
        return torch.cat([self.e1(s), self.e3(s)], 1)


class SqueezeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(cbr(1, 24, 3, 1), nn.MaxPool2d(2), Fire(24, 8, 16), Fire(32, 8, 16),
                                      nn.MaxPool2d(2), Fire(32, 12, 24), nn.AdaptiveAvgPool2d(1))
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        return self.fc(torch.flatten(self.features(x), 1))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "squeezenet_fmnist.onnx")
    torch.manual_seed(1)
    torch.onnx.export(SqueezeNet().eval(), torch.zeros(1, 1, 28, 28), out, opset_version=13, input_names=["image"],
                      output_names=["logits"])
    print("wrote %s" % out)


if __name__ == "__main__":
    main()
