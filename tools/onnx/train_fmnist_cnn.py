#!/usr/bin/python3
"""Trains a small CNN on Fashion-MNIST in PyTorch, exports it to ONNX and writes its float test accuracy.

Usage: /usr/bin/python3 tools/onnx/train_fmnist_cnn.py [--out DIR] [--epochs N] [--seed S] [--width W]
Reads /usr/share/datasets/fashion-mnist/*.gz (or $CIMSIM_FMNIST) with gzip + numpy. Writes
  DIR/fmnist_cnn.onnx          the model (opset 13, input 1x1x28x28, logits 10), BatchNorm folded by the export
  DIR/fmnist_cnn.float.json    {"test_accuracy_pct": float top-1 on the 10000 test images, "mean", "std", ...}
The model sees (pixel/255 - MEAN) / STD; pass the same to cimsim with --input-mean/--input-std (docs/onnx.md).
"""
import argparse, gzip, json, os, sys, time

import numpy as np
import torch
import torch.nn as nn

MEAN, STD = 0.2860, 0.3530


def load(dirname, kind):
    with gzip.open(os.path.join(dirname, f"{kind}-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(dirname, f"{kind}-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, y


def net(w):
    def block(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
    return nn.Sequential(*block(1, w), nn.MaxPool2d(2), *block(w, 2 * w), nn.MaxPool2d(2), *block(2 * w, 4 * w),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4 * w, 10))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="build/onnx-fmnist")
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    d = os.environ.get("CIMSIM_FMNIST", "/usr/share/datasets/fashion-mnist")
    xtr, ytr = load(d, "train")
    xte, yte = load(d, "t10k")
    norm = lambda x: (torch.from_numpy(x.astype(np.float32)) / 255.0 - MEAN) / STD
    Xtr, Ytr, Xte, Yte = norm(xtr), torch.from_numpy(ytr.astype(np.int64)), norm(xte), torch.from_numpy(yte.astype(np.int64))
    m = net(a.width)
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=a.epochs * ((len(Xtr) + 127) // 128))
    g = torch.Generator().manual_seed(a.seed)
    t0 = time.time()
    for ep in range(a.epochs):
        m.train()
        perm = torch.randperm(len(Xtr), generator=g)
        for i in range(0, len(Xtr), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(Xtr[idx]), Ytr[idx])
            loss.backward()
            opt.step()
            sched.step()
        print(f"epoch {ep + 1}/{a.epochs}: loss {loss.item():.3f} ({time.time() - t0:.0f} s)", flush=True)
    m.eval()
    with torch.no_grad():
        pred = torch.cat([m(Xte[i:i + 1000]).argmax(1) for i in range(0, len(Xte), 1000)])
    acc = 100.0 * (pred == Yte).float().mean().item()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "fmnist_cnn.onnx")
    torch.onnx.export(m, torch.zeros(1, 1, 28, 28), path, opset_version=13, input_names=["image"], output_names=["logits"])
    info = {"onnx": path, "test_accuracy_pct": acc, "test_images": len(Xte), "mean": MEAN, "std": STD,
            "epochs": a.epochs, "seed": a.seed, "width": a.width, "train_s": round(time.time() - t0, 1)}
    with open(os.path.join(a.out, "fmnist_cnn.float.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info))


if __name__ == "__main__":
    sys.exit(main())
