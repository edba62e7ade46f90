#!/usr/bin/python3
"""Makes the small ONNX models of the importer tests (tests/onnx/models/), each a few KB, deterministically.

Usage: /usr/bin/python3 tools/onnx/make_test_models.py [OUTDIR]   (default tests/onnx/models)
Models exported by torch.onnx.export (seeded random weights) come with NAME.expect.json: one input image (uint8
pixels, normalised as pixel/255) and the PyTorch float logits for it, so a test can check the imported graph's
float semantics independently of cimsim. Hand-built models (onnx.helper) cover QDQ scales and the refusals.
"""
import json, os, sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import TensorProto, helper, numpy_helper

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "tests", "onnx", "models")


def bn(c):
    b = nn.BatchNorm2d(c)
    with torch.no_grad():  # non-trivial running statistics, so the fold is tested
        b.running_mean.uniform_(-0.5, 0.5)
        b.running_var.uniform_(0.5, 2.0)
        b.weight.uniform_(0.5, 1.5)
        b.bias.uniform_(-0.3, 0.3)
    return b


class SmallCnn(nn.Module):
    """Conv+BN+ReLU, MaxPool, strided Conv+BN+ReLU6 (Clip), depthwise Conv+BN, residual Add+ReLU, AvgPool,
    Flatten with spatial > 1, Linear."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), bn(8), nn.ReLU())
        self.pool = nn.MaxPool2d(2)
        self.c2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1), bn(16), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False), bn(16))
        self.avg = nn.AvgPool2d(2)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = self.c2(self.pool(self.c1(x)))
        x = torch.relu(x + self.dw(x))
        return self.fc(torch.flatten(self.avg(x), 1))


def channel_shuffle(x, g):
    b, c, h, w = x.size()
    x = x.view(b, g, c // g, h, w)
    x = torch.transpose(x, 1, 2).contiguous()
    return x.view(b, -1, h, w)


class ShuffleFire(nn.Module):
    """ShuffleNet V2 unit (chunk -> branch -> concat -> channel shuffle, with the shape arithmetic the export
    makes of x.size()), a Fire module (squeeze, expand 1x1 / 3x3, concat), mean over H,W (ReduceMean), Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), bn(8), nn.ReLU())
        self.branch = nn.Sequential(nn.Conv2d(4, 4, 1, bias=False), bn(4), nn.ReLU(),
                                    nn.Conv2d(4, 4, 3, padding=1, groups=4, bias=False), bn(4),
                                    nn.Conv2d(4, 4, 1, bias=False), bn(4), nn.ReLU())
        self.squeeze = nn.Sequential(nn.Conv2d(8, 4, 1), nn.ReLU())
        self.e1 = nn.Sequential(nn.Conv2d(4, 6, 1), nn.ReLU())
        self.e3 = nn.Sequential(nn.Conv2d(4, 6, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.fc = nn.Linear(12, 7)

    def forward(self, x):
        x = self.stem(x)
        a, b = x.chunk(2, dim=1)
        x = channel_shuffle(torch.cat((a, self.branch(b)), 1), 2)
        s = self.squeeze(x)
        x = self.pool(torch.cat([self.e1(s), self.e3(s)], 1))
        return self.fc(x.mean([2, 3]))


class Mlp(nn.Module):
    """Flatten, MatMul with a constant weight + Add bias (no Gemm), ReLU, Linear."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.randn(64, 12) * 0.2)
        self.b = nn.Parameter(torch.randn(12) * 0.1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        return self.fc(torch.relu(torch.flatten(x, 1) @ self.w + self.b))


def export_torch(name, model, shape, opset, seed, dynamic=False):
    torch.manual_seed(seed)
    model.eval()
    path = os.path.join(OUT, name + ".onnx")
    kw = {}
    if dynamic:
        kw["dynamic_axes"] = {"image": {0: "N", 2: "H", 3: "W"}}
    torch.onnx.export(model, torch.zeros(1, *shape), path, opset_version=opset, input_names=["image"],
                      output_names=["logits"], **kw)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
    with torch.no_grad():
        logits = model(torch.from_numpy(pixels.astype(np.float32) / 255.0)[None])[0].numpy()
    with open(os.path.join(OUT, name + ".expect.json"), "w") as f:
        json.dump({"shape": list(shape), "pixels": pixels.flatten().tolist(),
                   "logits": [float(v) for v in logits.flatten()]}, f)


def save(name, nodes, inits, inp, out, opset=13):
    g = helper.make_graph(nodes, name, [inp], [out], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="cimsim make_test_models")
    m.ir_version = 7
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(OUT, name + ".onnx"))


def t(name, arr, dtype=None):
    return numpy_helper.from_array(np.asarray(arr, dtype=dtype), name)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(20)
    export_torch("small_cnn", SmallCnn(), (1, 16, 16), 13, 1)
    torch.manual_seed(21)
    export_torch("small_cnn_dynamic", SmallCnn(), (1, 16, 16), 11, 2, dynamic=True)
    torch.manual_seed(22)
    export_torch("shuffle_fire", ShuffleFire(), (3, 13, 13), 17, 3)
    torch.manual_seed(23)
    export_torch("mlp_matmul", Mlp(), (1, 8, 8), 11, 4)

    rng = np.random.default_rng(5)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    # QDQ: input, per-channel int8 weights and the conv output carry their own scales.
    wq = rng.integers(-127, 128, size=(4, 1, 3, 3)).astype(np.int8)
    save("qdq_conv", [
        helper.make_node("QuantizeLinear", ["x", "s_in", "zp"], ["xq"], name="q_in"),
        helper.make_node("DequantizeLinear", ["xq", "s_in", "zp"], ["xd"], name="dq_in"),
        helper.make_node("DequantizeLinear", ["wq", "s_w", "zp_w"], ["w"], name="dq_w", axis=0),
        helper.make_node("Conv", ["xd", "w", "b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("QuantizeLinear", ["r", "s_out", "zp"], ["rq"], name="q_out"),
        helper.make_node("DequantizeLinear", ["rq", "s_out", "zp"], ["rd"], name="dq_out"),
        helper.make_node("GlobalAveragePool", ["rd"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], name="fc", transB=1),
    ], [t("s_in", 1 / 64, np.float32), t("zp", 0, np.int8), t("wq", wq), t("s_w", [0.01, 0.02, 0.005, 0.015], np.float32),
        t("zp_w", [0, 0, 0, 0], np.int8), t("b", [0.1, -0.1, 0.05, 0.0], np.float32), t("s_out", 0.05, np.float32),
        t("fw", rng.normal(0, 0.3, (4, 4)), np.float32), t("fb", [0, 0.1, 0, -0.1], np.float32)], x, y)

    # Refusals, each one problem.
    w = t("w", rng.normal(0, 0.3, (4, 1, 3, 3)), np.float32)
    def conv_then(op_nodes, name, extra=(), out_shape=(1, 4, 8, 8), opset=13):
        yo = helper.make_tensor_value_info(op_nodes[-1].output[0], TensorProto.FLOAT, list(out_shape))
        save(name, [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", pads=[1, 1, 1, 1])] + op_nodes,
             [w] + list(extra), x, yo, opset)
    conv_then([helper.make_node("Softmax", ["c"], ["s"], name="the_softmax", axis=1)], "refuse_softmax")
    conv_then([helper.make_node("Conv", ["c", "w4"], ["d"], name="asym_conv", pads=[0, 0, 1, 1])], "refuse_asym_pads",
              [t("w4", rng.normal(0, 0.3, (4, 4, 2, 2)), np.float32)], (1, 4, 8, 8))
    conv_then([helper.make_node("MaxPool", ["c"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
               helper.make_node("Relu", ["p"], ["r"], name="relu_after_pool")], "refuse_relu_after_pool", (), (1, 4, 4, 4))
    conv_then([helper.make_node("Mul", ["c", "c"], ["m"], name="square")], "refuse_mul_activation")
    conv_then([helper.make_node("Clip", ["c", "lo", "hi"], ["k"], name="clip_neg")], "refuse_clip_negative",
              [t("lo", -1.0, np.float32), t("hi", 1.0, np.float32)])
    # A missing initializer: the graph names 'w_missing' but does not hold it (checker would refuse; save raw).
    g = helper.make_graph([helper.make_node("Conv", ["x", "w_missing"], ["c"], name="conv_missing", pads=[1, 1, 1, 1])],
                          "refuse_missing_init", [x], [helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 4, 8, 8])], [])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    onnx.save(m, os.path.join(OUT, "refuse_missing_init.onnx"))
    conv_then([helper.make_node("Relu", ["c"], ["r"], name="relu")], "refuse_opset9", (), (1, 4, 8, 8), 9)
    for f in sorted(os.listdir(OUT)):
        print(f"{f}: {os.path.getsize(os.path.join(OUT, f))} bytes")


if __name__ == "__main__":
    main()
