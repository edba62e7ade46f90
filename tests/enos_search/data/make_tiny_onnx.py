#!/usr/bin/env python3
"""Makes tiny_residual.onnx, the small Fashion-MNIST network the `cimsim search --onnx` test searches.

Conv 3x3/8 + BN + ReLU, MaxPool 2, Conv 3x3/8 + BN + ReLU6 (Clip), residual Add + ReLU, AveragePool 2,
Conv 1x1/16 + ReLU, GlobalAveragePool, Flatten, Gemm 16 -> 10. Trained briefly (three passes over 6000 training
images, seed 1) so that its float weights are worth initialising from; pixels scaled to [0, 1], no mean/std.
Writes tiny_residual.json: its float top-1 on the first 1000 Fashion-MNIST test images (PyTorch), the reference
of the weight-initialisation check. Also tiny_residual_rgb32.onnx: the same for 3 x 32 x 32 inputs, untrained (a model the data set does not fit).

Usage: /usr/bin/python3 make_tiny_onnx.py [FASHION_MNIST_DIR] [OUT]   (Debian python3-torch, python3-onnx)
"""
import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn


def idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Tiny(nn.Module):
    def __init__(self, cin=1):
        super().__init__()
        self.c1 = nn.Sequential(nn.Conv2d(cin, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.c2 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU6())
        self.avg = nn.AvgPool2d(2, count_include_pad=False)  # the default exports as a zero Pad + AveragePool
        self.c3 = nn.Sequential(nn.Conv2d(8, 16, 1), nn.ReLU())
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        a = self.pool(self.c1(x))
        y = torch.relu(a + self.c2(a))
        y = self.c3(self.avg(y))
        y = nn.functional.adaptive_avg_pool2d(y, 1)
        return self.fc(torch.flatten(y, 1))


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CIMSIM_FMNIST", "/usr/share/datasets/fashion-mnist")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "tiny_residual.onnx")
    torch.manual_seed(1)
    x = torch.tensor(idx(os.path.join(d, "train-images-idx3-ubyte.gz"))[:6000], dtype=torch.float32) / 255.0
    y = torch.tensor(idx(os.path.join(d, "train-labels-idx1-ubyte.gz"))[:6000], dtype=torch.int64)
    x = x.unsqueeze(1)
    m = Tiny()
    opt = torch.optim.Adam(m.parameters(), lr=3e-3)
    m.train()
    for i in list(range(0, 6000, 64)) * 3:
        opt.zero_grad()
        loss = nn.functional.cross_entropy(m(x[i:i + 64]), y[i:i + 64])
        loss.backward()
        opt.step()
    m.eval()
    xt = torch.tensor(idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"))[:1000], dtype=torch.float32) / 255.0
    yt = torch.tensor(idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"))[:1000], dtype=torch.int64)
    with torch.no_grad():
        acc = (m(xt.unsqueeze(1)).argmax(1) == yt).float().mean().item()
    torch.onnx.export(m, torch.zeros(1, 1, 28, 28), out, opset_version=13, input_names=["image"],
                      output_names=["logits"])
    print("wrote %s (float top-1 on the first 1000 test images: %.1f %%)" % (out, 100 * acc))
    with open(os.path.splitext(out)[0] + ".json", "w") as f:  # the float reference of the init check (cli_onnx.sh)
        json.dump({"model": os.path.basename(out), "test_images": 1000, "float_top1": round(acc, 4)}, f)
        f.write("\n")
    # The same network for 3 x 32 x 32 images, untrained: the data-shape mismatch test's model.
    rgb = os.path.join(os.path.dirname(out), "tiny_residual_rgb32.onnx")
    torch.onnx.export(Tiny(3).eval(), torch.zeros(1, 3, 32, 32), rgb, opset_version=13, input_names=["image"],
                      output_names=["logits"])
    print("wrote %s" % rgb)


if __name__ == "__main__":
    main()
