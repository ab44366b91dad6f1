#!/usr/bin/env python3
"""Writes a FINN CNV-w2a2-sized network (FINN's CIFAR-10 CNV topology, about 1.5 M
weights on a 32x32x3 input) in FINN's streamlined form: UINT8 input, 2-bit weights,
per-channel MultiThreshold 2-bit activations, max pools, a MatMul head and TopK.
The weights and thresholds are seeded random (not trained): this model measures scale.

    python scripts/testdata/cnv.py OUT_DIR [IMAGES]

OUT_DIR/cnv/model.onnx and inputs.npy (IMAGES seeded uint8 images, default 1000).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

RNG = np.random.default_rng(20261204)
F32 = np.float32


def main():
    out = os.path.join(sys.argv[1], "cnv")
    images = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    os.makedirs(out, exist_ok=True)
    dom = "finn.custom_op.general"
    nodes, inits, ann = [], [], [("global_in", "UINT8")]
    x, c, hw = "global_in", 3, 32
    # (channels, pool after)
    convs = [(64, False), (64, True), (128, False), (128, True), (256, False), (256, False)]
    for i, (co, pool) in enumerate(convs):
        w = RNG.integers(-2, 2, (co, c, 3, 3)).astype(F32)
        inits.append(numpy_helper.from_array(w, f"W{i}"))
        ann.append((f"W{i}", "INT2"))
        nodes.append(helper.make_node("Conv", [x, f"W{i}"], [f"m{i}"], name=f"Conv_{i}", kernel_shape=[3, 3]))
        hw -= 2
        # Thresholds around the accumulator's spread, so every level is used.
        spread = np.sqrt(c * 9) * (60 if i == 0 else 1.2)
        t = np.sort(RNG.normal(0, spread, (co, 3)), axis=1).astype(F32)
        inits.append(numpy_helper.from_array(np.round(t), f"T{i}"))
        nodes.append(helper.make_node("MultiThreshold", [f"m{i}", f"T{i}"], [f"a{i}"], name=f"MultiThreshold_{i}", domain=dom, out_dtype="UINT2"))
        ann.append((f"a{i}", "UINT2"))
        x, c = f"a{i}", co
        if pool:
            nodes.append(helper.make_node("MaxPool", [x], [f"p{i}"], name=f"MaxPool_{i}", kernel_shape=[2, 2], strides=[2, 2]))
            x, hw = f"p{i}", hw // 2
    nodes.append(helper.make_node("Flatten", [x], ["f"], name="Flatten_0"))
    x, k = "f", c * hw * hw
    for j, n in enumerate([512, 512, 10]):
        w = RNG.integers(-2, 2, (k, n)).astype(F32)
        inits.append(numpy_helper.from_array(w, f"F{j}"))
        ann.append((f"F{j}", "INT2"))
        nodes.append(helper.make_node("MatMul", [x, f"F{j}"], [f"fm{j}"], name=f"MatMul_{j}"))
        if j < 2:
            t = np.sort(RNG.normal(0, np.sqrt(k) * 1.2, (n, 3)), axis=1).astype(F32)
            inits.append(numpy_helper.from_array(np.round(t), f"FT{j}"))
            nodes.append(helper.make_node("MultiThreshold", [f"fm{j}", f"FT{j}"], [f"fa{j}"], name=f"MultiThreshold_fc{j}", domain=dom, out_dtype="UINT2"))
            x = f"fa{j}"
        else:
            x = f"fm{j}"
        k = n
    inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "k"))
    nodes.append(helper.make_node("TopK", [x, "k"], ["values", "global_out"], name="TopK_0", axis=-1, largest=1, sorted=1))
    graph = helper.make_graph(nodes, "cnv_w2a2", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("global_out", TensorProto.INT64, [1, 1])], inits)
    for tensor, dt in ann:
        a = onnx.TensorAnnotation()
        a.tensor_name = tensor
        e = a.quant_parameter_tensor_names.add()
        e.key, e.value = "finn_datatype", dt
        graph.quantization_annotation.append(a)
    model = helper.make_model(graph, producer_name="finn", opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(dom, 1)])
    model.ir_version = 7
    onnx.save(model, os.path.join(out, "model.onnx"))
    weights = sum(int(np.prod(t.dims)) for t in inits if t.name[0] in "WF")
    np.save(os.path.join(out, "inputs.npy"), RNG.integers(0, 256, (images, 3 * 32 * 32)).astype(np.int64))
    print(f"wrote {out}: {weights} weights, {images} images")


if __name__ == "__main__":
    main()
