#!/usr/bin/env python3
"""Trains a small CNN on scikit-learn's 8x8 digits with numpy and exports it twice.

Network (PyTorch's channels-first form): Conv 3x3 1->8 (pad 1) + ReLU, MaxPool 2,
Conv 3x3 8->16 (pad 1) + ReLU, MaxPool 2, Flatten, Gemm 64->10 (+ Softmax in the float
export). Data: the 1,797 bundled images (no download), pixels scaled to [0, 1], a
seeded quarter held out for testing. Writes into --out (default: next to this script):

  cnn.onnx        float model (opset 13); LUTForge quantizes it itself (int8 or LUT)
  cnn_qonnx.onnx  the same weights quantized by hand-built QONNX Quant nodes: a 5-bit
                  unsigned input (pixel*16 exactly), int8 per-channel weights, uint8
                  activations at calibrated scales, an int8 output Quant
  X_test.npy      float32 [N, 1, 8, 8] test images,  y_test.npy int64 [N] labels
  X_calib.npy     float32 [256, 1, 8, 8] training images for activation calibration
  accuracy.json   float test accuracy (numpy) and, with --reference, the QONNX model's
                  accuracy and outputs from qonnx's own executor (qonnx_out.npy, the int8
                  integers of its output Quant)

Needs numpy, scikit-learn and onnx (qonnx for --reference). Deterministic per seed.
"""
import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))
F32 = np.float32


def im2col(x, k, pad):
    """x [N, C, H, W] -> columns [N, H*W, C*k*k] for a stride-1 'same' convolution."""
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, h, w), x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    return cols.reshape(n, c * k * k, h * w).transpose(0, 2, 1)


def col2im(cols, shape, k, pad):
    n, c, h, w = shape
    cols = cols.transpose(0, 2, 1).reshape(n, c, k, k, h, w)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i:i + h, j:j + w] += cols[:, :, i, j]
    return xp[:, :, pad:pad + h, pad:pad + w]


def conv(x, w, b):
    n, _, h, wd = x.shape
    cols = im2col(x, 3, 1)
    y = cols @ w.reshape(w.shape[0], -1).T + b
    return y.transpose(0, 2, 1).reshape(n, w.shape[0], h, wd), cols


def maxpool(x):
    n, c, h, w = x.shape
    r = x.reshape(n, c, h // 2, 2, w // 2, 2)
    y = r.max(axis=(3, 5))
    mask = r == y[:, :, :, None, :, None]
    return y, mask


def forward(x, p, keep=False):
    z1, c1 = conv(x, p["w1"], p["b1"])
    a1 = np.maximum(z1, 0)
    p1, m1 = maxpool(a1)
    z2, c2 = conv(p1, p["w2"], p["b2"])
    a2 = np.maximum(z2, 0)
    p2, m2 = maxpool(a2)
    f = p2.reshape(len(x), -1)
    logits = f @ p["wf"].T + p["bf"]
    if keep:
        return logits, (z1, c1, p1, m1, z2, c2, p2, m2, f)
    return logits


def train(x, y, seed, epochs=60, lr=3e-3, batch=32):
    rng = np.random.default_rng(seed)
    p = {"w1": rng.normal(0, np.sqrt(2 / 9), (8, 1, 3, 3)), "b1": np.zeros(8),
         "w2": rng.normal(0, np.sqrt(2 / 72), (16, 8, 3, 3)), "b2": np.zeros(16),
         "wf": rng.normal(0, np.sqrt(2 / 64), (10, 64)), "bf": np.zeros(10)}
    p = {k: v.astype(F32) for k, v in p.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    v2 = {k: np.zeros_like(v) for k, v in p.items()}
    onehot = np.eye(10, dtype=F32)[y]
    step = 0
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for s in range(0, len(x), batch):
            idx = order[s:s + batch]
            xb, n = x[idx], len(idx)
            logits, (z1, c1, p1, m1, z2, c2, p2, m2, f) = forward(xb, p, keep=True)
            e = np.exp(logits - logits.max(axis=1, keepdims=True))
            g = (e / e.sum(axis=1, keepdims=True) - onehot[idx]) / n
            grads = {"wf": g.T @ f, "bf": g.sum(0)}
            gp2 = (g @ p["wf"]).reshape(p2.shape)
            ga2 = (m2 * gp2[:, :, :, None, :, None]).reshape(z2.shape) * (z2 > 0)
            g2 = ga2.reshape(n, 16, -1).transpose(0, 2, 1)
            grads["w2"] = np.einsum("npo,npi->oi", g2, c2).reshape(p["w2"].shape)
            grads["b2"] = g2.sum((0, 1))
            gp1 = col2im(g2 @ p["w2"].reshape(16, -1), p1.shape, 3, 1)
            ga1 = (m1 * gp1[:, :, :, None, :, None]).reshape(z1.shape) * (z1 > 0)
            g1 = ga1.reshape(n, 8, -1).transpose(0, 2, 1)
            grads["w1"] = np.einsum("npo,npi->oi", g1, c1).reshape(p["w1"].shape)
            grads["b1"] = g1.sum((0, 1))
            step += 1
            for k in p:
                m[k] = 0.9 * m[k] + 0.1 * grads[k]
                v2[k] = 0.999 * v2[k] + 0.001 * grads[k] ** 2
                p[k] -= (lr * (m[k] / (1 - 0.9 ** step)) / (np.sqrt(v2[k] / (1 - 0.999 ** step)) + 1e-8)).astype(F32)
    return p


def graph_body(p, nodes, inits, x, quant=None):
    """Appends the network's nodes reading `x`; `quant(name, tensor)` inserts a Quant."""
    q = quant or (lambda name, t, **kw: t)
    inits += [numpy_helper.from_array(p[k].astype(F32), k) for k in ("w1", "b1", "w2", "b2", "wf", "bf")]
    w1, w2, wf = q("Quant_w1", "w1", weight=True), q("Quant_w2", "w2", weight=True), q("Quant_wf", "wf", weight=True)
    nodes.append(helper.make_node("Conv", [x, w1, "b1"], ["z1"], name="Conv_0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["z1"], ["r1"], name="Relu_0"))
    r1 = q("Quant_a1", "r1")
    nodes.append(helper.make_node("MaxPool", [r1], ["p1"], name="MaxPool_0", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Conv", ["p1", w2, "b2"], ["z2"], name="Conv_1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    nodes.append(helper.make_node("Relu", ["z2"], ["r2"], name="Relu_1"))
    r2 = q("Quant_a2", "r2")
    nodes.append(helper.make_node("MaxPool", [r2], ["p2"], name="MaxPool_1", kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["p2"], ["f"], name="Flatten_0", axis=1))
    nodes.append(helper.make_node("Gemm", ["f", wf, "bf"], ["logits"], name="Gemm_0", transB=1))
    return "logits"


def save(nodes, inits, out_name, path, opsets, out_shape=(1, 10)):
    graph = helper.make_graph(nodes, "digits_cnn", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 1, 8, 8])],
                              [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, list(out_shape))], inits)
    model = helper.make_model(graph, producer_name="lutforge-examples", opset_imports=opsets)
    model.ir_version = 8
    onnx.save(model, path)


def export_float(p, path):
    nodes, inits = [], []
    logits = graph_body(p, nodes, inits, "input")
    nodes.append(helper.make_node("Softmax", [logits], ["probabilities"], name="Softmax_0", axis=1))
    save(nodes, inits, "probabilities", path, [helper.make_opsetid("", 13)])


def export_qonnx(p, calib, path):
    """Post-training quantization with QONNX Quant nodes; activation scales from the
    calibration maxima (float32), weight scales per output channel."""
    dom = "qonnx.custom_op.general"
    _, (z1, _, _, _, z2, _, _, _, _) = forward(calib, p, keep=True)
    logits = forward(calib, p)
    nodes, inits = [], []

    def quant(name, tensor, weight=False, scale=None, bits=8, signed=False, narrow=False, out=None):
        if weight:
            w = p[tensor]
            scale = (np.abs(w.reshape(len(w), -1)).max(1) / 127).astype(F32).reshape((-1,) + (1,) * (w.ndim - 1))
            signed, narrow = True, True
        elif scale is None:
            scale = F32({"r1": z1, "r2": z2}[tensor].max() / 255)
        inits.extend([numpy_helper.from_array(np.asarray(scale, F32), name + "_scale"),
                      numpy_helper.from_array(np.asarray(0, F32), name + "_zeropt"),
                      numpy_helper.from_array(np.asarray(bits, F32), name + "_bitwidth")])
        out = out or tensor + "_q"
        nodes.append(helper.make_node("Quant", [tensor, name + "_scale", name + "_zeropt", name + "_bitwidth"], [out],
                                      name=name, domain=dom, narrow=int(narrow), rounding_mode="ROUND", signed=int(signed)))
        return out

    x = quant("Quant_in", "input", scale=F32(1 / 16), bits=5)
    logits_name = graph_body(p, nodes, inits, x, quant)
    quant("Quant_out", logits_name, scale=F32(np.abs(logits).max() / 127), signed=True, out="output")
    save(nodes, inits, "output", path, [helper.make_opsetid("", 13), helper.make_opsetid(dom, 1)])


def qonnx_outputs(path, x):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model
    model = cleanup_model(ModelWrapper(path))
    name_in, name_out = model.graph.input[0].name, model.graph.output[0].name
    return np.stack([execute_onnx(model, {name_in: v[None]})[name_out][0] for v in x])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--reference", action="store_true", help="run qonnx's executor on the test split")
    args = ap.parse_args()
    digits = load_digits()
    x = (digits.data / 16.0).astype(F32).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(args.seed).permutation(len(x))
    n_test = len(x) // 4
    test, trainval = order[:n_test], order[n_test:]
    p = train(x[trainval], y[trainval], args.seed)
    acc = float((forward(x[test], p).argmax(1) == y[test]).mean())
    print(f"float test accuracy: {acc * 100:.2f}% on {n_test} images")
    os.makedirs(args.out, exist_ok=True)
    calib = x[trainval[:256]]
    export_float(p, os.path.join(args.out, "cnn.onnx"))
    export_qonnx(p, calib, os.path.join(args.out, "cnn_qonnx.onnx"))
    np.save(os.path.join(args.out, "X_test.npy"), x[test])
    np.save(os.path.join(args.out, "y_test.npy"), y[test])
    np.save(os.path.join(args.out, "X_calib.npy"), calib)
    result = {"float_accuracy": acc, "test_images": n_test}
    if args.reference:
        path = os.path.join(args.out, "cnn_qonnx.onnx")
        out = qonnx_outputs(path, x[test]).astype(np.float64)
        scale = next(numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer if t.name == "Quant_out_scale")
        q = np.rint(out / float(scale))
        assert np.abs(out / float(scale) - q).max() < 1e-3, "qonnx output off the int8 grid"
        np.save(os.path.join(args.out, "qonnx_out.npy"), q.astype(np.int64))
        result["qonnx_accuracy"] = float((out.argmax(1) == y[test]).mean())
        print(f"QONNX (qonnx executor) test accuracy: {result['qonnx_accuracy'] * 100:.2f}%")
    with open(os.path.join(args.out, "accuracy.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
