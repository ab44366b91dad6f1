#!/usr/bin/env python3
"""Writes a FINN CNV-w2a2-sized network (FINN's CIFAR-10 CNV topology, about 1.5 M
weights on a 32x32x3 input) in FINN's streamlined form: UINT8 input, 2-bit weights,
per-channel MultiThreshold 2-bit activations, max pools, a MatMul head and TopK.
The weights and thresholds are seeded random (not trained): this model measures scale.

    python scripts/testdata/cnv.py OUT_DIR [IMAGES [REFERENCE]]

OUT_DIR/cnv/model.onnx and inputs.npy (IMAGES seeded uint8 images, default 1000); with
REFERENCE > 0, expected.npy: the classes qonnx's executor gives the first REFERENCE images,
and logits.onnx (the same network ending at the last MatMul's integer accumulators) with
expected_logits.npy, qonnx's logits of those images.
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
    # The thresholds sit at per-channel quartiles of the accumulators on seeded images, so
    # every activation level is used and images stay distinguishable to the last layer.
    act = RNG.integers(0, 256, (16, 3, 32, 32)).astype(np.float64)

    def int2(shape):
        # INT2 weights with (nearly) zero mean: activations are non-negative, so a biased
        # weight distribution would make every channel track the same total.
        return RNG.choice(np.array([-2, -1, 0, 1], dtype=F32), size=shape, p=[0.05, 0.3, 0.3, 0.35])

    def quartiles(acc, axis):
        return np.round(np.quantile(acc, [0.25, 0.5, 0.75], axis=axis).T).astype(F32)

    def levels(acc, t):
        # MultiThreshold: the count of thresholds each value reaches (acc >= t), per channel.
        shape = (1, -1) + (1,) * (acc.ndim - 2)
        return sum((acc >= t[:, j].reshape(shape)).astype(np.float64) for j in range(t.shape[1]))

    for i, (co, pool) in enumerate(convs):
        w = int2((co, c, 3, 3))
        inits.append(numpy_helper.from_array(w, f"W{i}"))
        ann.append((f"W{i}", "INT2"))
        nodes.append(helper.make_node("Conv", [x, f"W{i}"], [f"m{i}"], name=f"Conv_{i}", kernel_shape=[3, 3]))
        hw -= 2
        cols = np.stack([act[:, :, ky:ky + hw, kx:kx + hw] for ky in range(3) for kx in range(3)], axis=2)  # n, c, 9, h, w
        acc = np.einsum("nckhw,ock->nohw", cols, w.reshape(co, c, 9).astype(np.float64))
        t = quartiles(acc.transpose(1, 0, 2, 3).reshape(co, -1), axis=1)
        inits.append(numpy_helper.from_array(t, f"T{i}"))
        nodes.append(helper.make_node("MultiThreshold", [f"m{i}", f"T{i}"], [f"a{i}"], name=f"MultiThreshold_{i}", domain=dom, out_dtype="UINT2"))
        ann.append((f"a{i}", "UINT2"))
        act = levels(acc, t)
        x, c = f"a{i}", co
        if pool:
            nodes.append(helper.make_node("MaxPool", [x], [f"p{i}"], name=f"MaxPool_{i}", kernel_shape=[2, 2], strides=[2, 2]))
            x, hw = f"p{i}", hw // 2
            act = act.reshape(len(act), c, hw, 2, hw, 2).max(axis=(3, 5))
    nodes.append(helper.make_node("Flatten", [x], ["f"], name="Flatten_0"))
    x, k = "f", c * hw * hw
    act = act.reshape(len(act), -1)
    for j, n in enumerate([512, 512, 10]):
        w = int2((k, n))
        inits.append(numpy_helper.from_array(w, f"F{j}"))
        ann.append((f"F{j}", "INT2"))
        nodes.append(helper.make_node("MatMul", [x, f"F{j}"], [f"fm{j}"], name=f"MatMul_{j}"))
        acc = act @ w.astype(np.float64)
        if j < 2:
            t = quartiles(acc.T, axis=1)
            inits.append(numpy_helper.from_array(t, f"FT{j}"))
            nodes.append(helper.make_node("MultiThreshold", [f"fm{j}", f"FT{j}"], [f"fa{j}"], name=f"MultiThreshold_fc{j}", domain=dom, out_dtype="UINT2"))
            x = f"fa{j}"
            act = levels(acc, t)
        else:
            x = f"fm{j}"
        k = n
    inits.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "k"))
    nodes.append(helper.make_node("TopK", [x, "k"], ["values", "global_out"], name="TopK_0", axis=-1, largest=1, sorted=1))
    graph = helper.make_graph(nodes, "cnv_w2a2", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("global_out", TensorProto.INT64, [1, 1])], inits)
    def save(graph, name):
        for tensor, dt in ann:
            a = onnx.TensorAnnotation()
            a.tensor_name = tensor
            e = a.quant_parameter_tensor_names.add()
            e.key, e.value = "finn_datatype", dt
            graph.quantization_annotation.append(a)
        model = helper.make_model(graph, producer_name="finn", opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(dom, 1)])
        model.ir_version = 7
        onnx.save(model, os.path.join(out, name))

    save(graph, "model.onnx")
    save(helper.make_graph(nodes[:-1], "cnv_w2a2_logits", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, 3, 32, 32])],
                           [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 10])], inits[:-1]), "logits.onnx")
    weights = sum(int(np.prod(t.dims)) for t in inits if t.name[0] in "WF" and t.name[1].isdigit())
    np.save(os.path.join(out, "inputs.npy"), RNG.integers(0, 256, (images, 3 * 32 * 32)).astype(np.int64))
    reference = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    if reference > 0:
        from qonnx.core.modelwrapper import ModelWrapper
        from qonnx.core.onnx_exec import execute_onnx
        from qonnx.util.cleanup import cleanup_model
        cleaned = cleanup_model(ModelWrapper(os.path.join(out, "model.onnx")))
        x = np.load(os.path.join(out, "inputs.npy"))[:reference].astype(F32).reshape(-1, 1, 3, 32, 32)
        classes = [int(execute_onnx(cleaned, {"global_in": v})["global_out"].reshape(-1)[0]) for v in x]
        np.save(os.path.join(out, "expected.npy"), np.array(classes, dtype=np.int64).reshape(-1, 1))
        cleaned = cleanup_model(ModelWrapper(os.path.join(out, "logits.onnx")))
        name = cleaned.graph.output[0].name
        logits = np.stack([execute_onnx(cleaned, {"global_in": v})[name].reshape(-1) for v in x])
        assert (logits == np.rint(logits)).all()
        np.save(os.path.join(out, "expected_logits.npy"), logits.astype(np.int64))
    print(f"wrote {out}: {weights} weights, {images} images")


if __name__ == "__main__":
    main()
