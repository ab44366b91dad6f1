#!/usr/bin/env python3
"""Trains the bundled digits MLP (64-32-16-10) with numpy and exports it as ONNX.

Data: scikit-learn's bundled 8x8 digits (1,797 images, no download). Pixels are
scaled to [0, 1]. Writes, next to this script:
  digits.onnx   Gemm(transB=1) + Relu layers, final Softmax (opset 13)
  X_test.npy    float32 [N, 64] held-out test split
  y_test.npy    int64   [N]     its labels
  X_calib.npy   float32 [256, 64] training images for activation calibration
With --matmul-fixture PATH it also writes the same network in the MatMul + Add
style, which the import tests read.
Needs: numpy, scikit-learn, onnx. Deterministic for a given seed.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from sklearn.datasets import load_digits

HERE = os.path.dirname(os.path.abspath(__file__))


def train(x, y, sizes, seed, epochs=300, lr=3e-3, batch=64):
    rng = np.random.default_rng(seed)
    weights, biases = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weights.append(rng.normal(0, np.sqrt(2.0 / fan_in), (fan_out, fan_in)).astype(np.float32))
        biases.append(np.zeros(fan_out, np.float32))
    params = weights + biases
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    step = 0
    onehot = np.eye(sizes[-1], dtype=np.float32)[y]
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            acts = [x[idx]]
            for i, (w, b) in enumerate(zip(weights, biases)):
                z = acts[-1] @ w.T + b
                acts.append(np.maximum(z, 0) if i < len(weights) - 1 else z)
            logits = acts[-1]
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            grad = (p - onehot[idx]) / len(idx)
            gw, gb = [None] * len(weights), [None] * len(weights)
            for i in reversed(range(len(weights))):
                gw[i] = grad.T @ acts[i]
                gb[i] = grad.sum(axis=0)
                if i > 0:
                    grad = (grad @ weights[i]) * (acts[i] > 0)
            step += 1
            for j, (p_, g) in enumerate(zip(params, gw + gb)):
                m[j] = 0.9 * m[j] + 0.1 * g
                v[j] = 0.999 * v[j] + 0.001 * g * g
                mh = m[j] / (1 - 0.9 ** step)
                vh = v[j] / (1 - 0.999 ** step)
                p_ -= lr * mh / (np.sqrt(vh) + 1e-8)
    return weights, biases


def forward(x, weights, biases):
    h = x
    for i, (w, b) in enumerate(zip(weights, biases)):
        h = h @ w.T + b
        if i < len(weights) - 1:
            h = np.maximum(h, 0)
    return h


def export(weights, biases, path, style):
    nodes, inits = [], []
    current = "input"
    for i, (w, b) in enumerate(zip(weights, biases)):
        out = f"fc{i}_out"
        if style == "gemm":
            inits += [numpy_helper.from_array(w, f"fc{i}.weight"), numpy_helper.from_array(b, f"fc{i}.bias")]
            nodes.append(helper.make_node("Gemm", [current, f"fc{i}.weight", f"fc{i}.bias"], [out],
                                          name=f"fc{i}", transB=1))
        else:
            inits += [numpy_helper.from_array(np.ascontiguousarray(w.T), f"fc{i}.weight_t"),
                      numpy_helper.from_array(b, f"fc{i}.bias")]
            nodes.append(helper.make_node("MatMul", [current, f"fc{i}.weight_t"], [f"fc{i}_mm"], name=f"fc{i}_matmul"))
            nodes.append(helper.make_node("Add", [f"fc{i}_mm", f"fc{i}.bias"], [out], name=f"fc{i}_add"))
        current = out
        if i < len(weights) - 1:
            nodes.append(helper.make_node("Relu", [current], [f"relu{i}_out"], name=f"relu{i}"))
            current = f"relu{i}_out"
    nodes.append(helper.make_node("Softmax", [current], ["probabilities"], name="softmax", axis=1))
    graph = helper.make_graph(
        nodes, "digits_mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, weights[0].shape[1]])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, weights[-1].shape[0]])],
        inits)
    model = helper.make_model(graph, producer_name="lutforge-examples", opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--matmul-fixture", help="also write the MatMul+Add export here")
    args = ap.parse_args()

    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(args.seed).permutation(len(x))
    n_test = len(x) // 4
    test, trainval = order[:n_test], order[n_test:]
    weights, biases = train(x[trainval], y[trainval], [64, 32, 16, 10], args.seed)
    acc = (forward(x[test], weights, biases).argmax(axis=1) == y[test]).mean()
    print(f"float test accuracy: {acc * 100:.2f}% on {n_test} images")

    os.makedirs(args.out, exist_ok=True)
    export(weights, biases, os.path.join(args.out, "digits.onnx"), "gemm")
    np.save(os.path.join(args.out, "X_test.npy"), x[test])
    np.save(os.path.join(args.out, "y_test.npy"), y[test])
    np.save(os.path.join(args.out, "X_calib.npy"), x[trainval[:256]])
    if args.matmul_fixture:
        export(weights, biases, args.matmul_fixture, "matmul")


if __name__ == "__main__":
    main()
