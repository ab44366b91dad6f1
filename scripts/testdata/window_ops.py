#!/usr/bin/env python3
"""Writes single-node ONNX models of the window ops (Conv, ConvInteger, QLinearConv,
MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool, Pad) with a seeded input and
onnxruntime's output, for the float interpreter's tests.

    python scripts/testdata/window_ops.py OUT_DIR

Every float value is a small integer times a power of two, so float32 arithmetic is
exact in any summation order and onnxruntime's results must be matched exactly.
OUT_DIR/<case>/model.onnx, input.npy, output.npy; OUT_DIR/cases.json lists the cases.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(20261202)


def grid(shape, lo=-8, hi=8, scale=0.25, dtype=np.float32):
    return (RNG.integers(lo, hi + 1, size=shape) * scale).astype(dtype)


def case(out, name, node, x, inits, opset=13, out_type=TensorProto.FLOAT):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    in_type = {np.float32: TensorProto.FLOAT, np.uint8: TensorProto.UINT8, np.int8: TensorProto.INT8}[x.dtype.type]
    graph = helper.make_graph([node], name, [helper.make_tensor_value_info("x", in_type, list(x.shape))],
                              [helper.make_tensor_value_info("y", out_type, [])],
                              [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    # The output's shape is onnxruntime's to report; drop the placeholder before saving.
    model.graph.output[0].type.tensor_type.ClearField("shape")
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    y = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
    np.save(os.path.join(d, "input.npy"), x.astype(np.float32) if x.dtype == np.float32 else x.astype(np.int64))
    np.save(os.path.join(d, "output.npy"), y.astype(np.float32) if y.dtype == np.float32 else y.astype(np.int64))
    return {"name": name, "shape": list(y.shape)}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []
    conv = lambda name, **a: helper.make_node("Conv", ["x", "w", "b"], ["y"], name=name, **a)
    # 2-D: plain, padded + strided, dilated, SAME_UPPER, grouped, depthwise.
    for name, cin, cout, k, attrs in [
        ("conv2d", 3, 4, (3, 3), {}),
        ("conv2d_pad_stride", 3, 5, (3, 3), {"pads": [1, 1, 1, 1], "strides": [2, 2]}),
        ("conv2d_dilated", 2, 3, (3, 2), {"dilations": [2, 1], "pads": [0, 1, 2, 0]}),
        ("conv2d_same_upper", 2, 2, (4, 4), {"auto_pad": "SAME_UPPER", "strides": [2, 2]}),
        ("conv2d_same_lower", 2, 2, (2, 2), {"auto_pad": "SAME_LOWER"}),
        ("conv2d_group2", 4, 6, (3, 3), {"group": 2, "pads": [1, 1, 1, 1]}),
        ("conv2d_depthwise", 4, 4, (3, 3), {"group": 4, "pads": [1, 1, 1, 1]}),
        ("conv2d_pointwise", 5, 3, (1, 1), {}),
    ]:
        g = attrs.get("group", 1)
        x = grid((1, cin, 7, 6))
        w = grid((cout, cin // g) + k, -3, 3, 0.5)
        b = grid((cout,), -4, 4, 0.125)
        cases.append(case(out, name, conv(name, kernel_shape=list(k), **attrs), x, {"w": w, "b": b}))
    # 1-D.
    x = grid((1, 3, 11))
    w = grid((4, 3, 3), -3, 3, 0.5)
    cases.append(case(out, "conv1d", conv("conv1d", kernel_shape=[3], pads=[1, 2], strides=[2]), x, {"w": w, "b": grid((4,))}))
    # ConvInteger and QLinearConv (uint8 input, int8 weights, per-channel weight scales).
    xq = RNG.integers(0, 256, size=(1, 3, 6, 6)).astype(np.uint8)
    wq = RNG.integers(-60, 61, size=(4, 3, 3, 3)).astype(np.int8)
    cases.append(case(out, "conv_integer", helper.make_node("ConvInteger", ["x", "w", "zx"], ["y"], name="ci", pads=[1, 1, 1, 1]),
                      xq, {"w": wq, "zx": np.array(120, dtype=np.uint8)}, opset=13, out_type=TensorProto.INT32))
    inits = {"sx": np.array(0.02, np.float32), "zx": np.array(121, np.uint8), "w": wq,
             "sw": np.array([0.011, 0.007, 0.013, 0.009], np.float32), "zw": np.zeros(4, np.int8),
             "sy": np.array(0.05, np.float32), "zy": np.array(110, np.uint8),
             "bias": RNG.integers(-500, 500, size=4).astype(np.int32)}
    cases.append(case(out, "qlinear_conv", helper.make_node("QLinearConv", ["x", "sx", "zx", "w", "sw", "zw", "sy", "zy", "bias"], ["y"],
                                                            name="qc", strides=[2, 1]), xq, inits, out_type=TensorProto.UINT8))
    # Pools.
    x = grid((1, 3, 7, 8))
    pool = lambda op, name, **a: helper.make_node(op, ["x"], ["y"], name=name, **a)
    cases.append(case(out, "maxpool", pool("MaxPool", "mp", kernel_shape=[2, 2], strides=[2, 2]), x, {}))
    cases.append(case(out, "maxpool_pad", pool("MaxPool", "mpp", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]), x, {}))
    cases.append(case(out, "maxpool_ceil", pool("MaxPool", "mpc", kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1), x, {}))
    cases.append(case(out, "avgpool", pool("AveragePool", "ap", kernel_shape=[2, 2], strides=[2, 2]), x, {}))
    cases.append(case(out, "avgpool_pad_include", pool("AveragePool", "api", kernel_shape=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1), x, {}))
    cases.append(case(out, "avgpool_pad_exclude", pool("AveragePool", "ape", kernel_shape=[3, 3], pads=[1, 1, 1, 1]), x, {}))
    cases.append(case(out, "global_avgpool", pool("GlobalAveragePool", "gap"), grid((1, 4, 4, 4)), {}))
    cases.append(case(out, "global_maxpool", pool("GlobalMaxPool", "gmp"), x, {}))
    cases.append(case(out, "maxpool1d", pool("MaxPool", "mp1", kernel_shape=[3], strides=[2]), grid((1, 2, 9)), {}))
    # Pad (opset 13: pads and value as inputs).
    cases.append(case(out, "pad", helper.make_node("Pad", ["x", "pads", "v"], ["y"], name="pad"), grid((1, 2, 3, 3)),
                      {"pads": np.array([0, 0, 1, 2, 0, 0, 2, 1], np.int64), "v": np.array(0.5, np.float32)}))
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print("wrote", len(cases), "cases")


if __name__ == "__main__":
    main()
