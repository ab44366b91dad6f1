#!/usr/bin/env python3
"""Writes the quantized test models of LUTForge, each in the exact form its exporter
produces, with seeded inputs and the exporter's own reference integers.

    python scripts/testdata/quantized_models.py OUT_DIR

For every model OUT_DIR/<name>/ gets model.onnx (and, for QONNX, cleaned.onnx after
qonnx.util.cleanup.cleanup_model), inputs.npy, calib.npy, expected.npy (int64: the
reference's output integers) and info.json (how many quantizer inputs were exact
rounding ties, the output quantization). References:
  - QONNX models (Brevitas, QKeras, FINN forms): qonnx.core.onnx_exec.execute_onnx
    after qonnx.util.cleanup.cleanup_model;
  - ONNX QDQ models (onnxruntime.quantization.quantize_static): onnxruntime with graph
    optimizations disabled, which executes the QuantizeLinear/DequantizeLinear graph op
    by op as ONNX specifies it. (Its fused QGemm kernels saturate 16-bit pair sums on
    x86 without AVX-VNNI; docs/numerics.md has the measurement.)
Nothing here is committed output: the tests run this script into a temporary directory.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
RNG = np.random.default_rng(20261201)


def const(name, value, dtype=np.float32):
    return numpy_helper.from_array(np.asarray(value, dtype=dtype), name)


def save(model, path):
    onnx.checker.check_model(model)
    onnx.save(model, path)


def po2(e):
    return F32(2.0 ** e)


def tie_count(values, scale):
    """Values v with v / scale exactly halfway between two integers (float32)."""
    y = (np.asarray(values, dtype=F32) / F32(scale)).astype(F32)
    return int(np.sum(np.abs(y - np.floor(y) - F32(0.5)) == 0))


def as_double(model):
    """A copy of a cleaned QONNX model that computes in float64: every float initializer and
    value type widened. qonnx's executor then runs the same ops on (nearly) exact real numbers."""
    from qonnx.core.modelwrapper import ModelWrapper

    m = onnx.ModelProto()
    m.CopyFrom(model.model)
    g = m.graph
    for i, t in enumerate(g.initializer):
        a = numpy_helper.to_array(t)
        if a.dtype == np.float32:
            g.initializer[i].CopyFrom(numpy_helper.from_array(a.astype(np.float64), t.name))
    for v in list(g.input) + list(g.output) + list(g.value_info):
        if v.type.tensor_type.elem_type == TensorProto.FLOAT:
            v.type.tensor_type.elem_type = TensorProto.DOUBLE
    for n in g.node:
        for a in n.attribute:
            if a.name == "to" and a.i == TensorProto.FLOAT:
                a.i = TensorProto.DOUBLE
    return ModelWrapper(m)


class _Numpy64:
    """numpy, except that `float32` means float64: qonnx's quantizers cast their outputs to
    float32, which the float64 execution must not do."""
    float32 = np.float64

    def __getattr__(self, name):
        return getattr(np, name)


def conv_double(x, w, b, attrs):
    """ONNX Conv in float64 with numpy (onnxruntime has no float64 Conv): NCHW, pads, strides, dilations, groups."""
    k = list(w.shape[2:])
    n = len(k)
    strides = attrs.get("strides", [1] * n)
    dil = attrs.get("dilations", [1] * n)
    pads = attrs.get("pads", [0] * (2 * n))
    group = attrs.get("group", 1)
    assert attrs.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), "conv_double: auto_pad"
    xp = np.pad(x, [(0, 0), (0, 0)] + [(pads[d], pads[n + d]) for d in range(n)])
    cout, cg = w.shape[0], w.shape[1]
    out_sp = [(xp.shape[2 + d] - dil[d] * (k[d] - 1) - 1) // strides[d] + 1 for d in range(n)]
    y = np.zeros([1, cout] + out_sp)
    for o in range(cout):
        g = o // (cout // group)
        for idx in np.ndindex(*out_sp):
            sl = tuple(slice(idx[d] * strides[d], idx[d] * strides[d] + dil[d] * (k[d] - 1) + 1, dil[d]) for d in range(n))
            patch = xp[(0, slice(g * cg, (g + 1) * cg)) + sl]
            y[(0, o) + idx] = np.sum(patch * w[o])
        if b is not None:
            y[0, o] += b[o]
    return y


def execute_double(model, feed):
    """qonnx's executor on `as_double(model)` with the quantizers' float32 casts lifted (and Conv in numpy)."""
    import qonnx.core.onnx_exec as ex
    import qonnx.custom_op.general.bipolar_quant as bq
    import qonnx.custom_op.general.intquant as iq

    saved = (iq.np, bq.np, ex.execute_node)
    original = ex.execute_node

    def execute_node(node, context, graph, opset_version, return_full_exec_context=False):
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        x = context[node.input[0]]
        if node.op_type == "Conv":
            b = context[node.input[2]] if len(node.input) > 2 and node.input[2] else None
            context[node.output[0]] = conv_double(x, context[node.input[1]], b, attrs)
            return
        if node.op_type in ("GlobalAveragePool", "GlobalMaxPool"):
            axes = tuple(range(2, x.ndim))
            context[node.output[0]] = (x.mean(axis=axes, keepdims=True) if node.op_type == "GlobalAveragePool" else x.max(axis=axes, keepdims=True))
            return
        if node.op_type in ("MaxPool", "AveragePool"):
            k = attrs["kernel_shape"]
            n = len(k)
            st = attrs.get("strides", [1] * n)
            pads = attrs.get("pads", [0] * (2 * n))
            assert not any(pads) and not attrs.get("ceil_mode", 0), "pool_double: pads"
            out_sp = [(x.shape[2 + d] - k[d]) // st[d] + 1 for d in range(n)]
            y = np.zeros(list(x.shape[:2]) + out_sp)
            for idx in np.ndindex(*out_sp):
                sl = tuple(slice(idx[d] * st[d], idx[d] * st[d] + k[d]) for d in range(n))
                patch = x[(slice(None), slice(None)) + sl]
                y[(slice(None), slice(None)) + idx] = patch.max(axis=tuple(range(2, x.ndim))) if node.op_type == "MaxPool" else patch.mean(axis=tuple(range(2, x.ndim)))
            context[node.output[0]] = y
            return
        original(node, context, graph, opset_version, return_full_exec_context)

    iq.np, bq.np, ex.execute_node = _Numpy64(), _Numpy64(), execute_node
    try:
        return ex.execute_onnx(model, feed)
    finally:
        iq.np, bq.np, ex.execute_node = saved


def qonnx_reference(path, inputs, input_name):
    """qonnx's executor after cleanup (float32, the reference), and the same graph in float64."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(ModelWrapper(path))
    double = as_double(model)
    outs, outs64 = [], []
    contexts = []
    # cleanup renames the graph's input and output (global_in, global_out).
    input_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    shape = model.get_tensor_shape(input_name)
    for x in inputs:
        ctx = execute_onnx(model, {input_name: x.reshape(shape).astype(F32)}, return_full_exec_context=True)
        outs.append(np.asarray(ctx[out_name]).flatten())
        contexts.append(ctx)
        outs64.append(np.asarray(execute_double(double, {input_name: x.reshape(shape).astype(np.float64)})[out_name]).flatten())
    return model, np.stack(outs), contexts, np.stack(outs64)


def write(name, out_dir, model, inputs, calib, expected, info, cleaned=None):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    save(model, os.path.join(d, "model.onnx"))
    if cleaned is not None:
        cleaned.save(os.path.join(d, "cleaned.onnx"))
    np.save(os.path.join(d, "inputs.npy"), inputs)
    np.save(os.path.join(d, "calib.npy"), calib)
    np.save(os.path.join(d, "expected.npy"), np.asarray(expected, dtype=np.int64))
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


def quant_integer(x, scale, zp, bits, signed, narrow):
    """QONNX Quant up to the integer: round-half-even(clamp(x / s + z)), float32."""
    y = (x.astype(F32) / F32(scale)).astype(F32) + F32(zp)
    lo = -(2 ** (bits - 1)) + (1 if narrow else 0) if signed else 0
    hi = 2 ** (bits - 1) - 1 if signed else 2 ** bits - 1 - (1 if narrow else 0)
    return np.round(np.clip(y, lo, hi))


# ---------------------------------------------------------------------------------------------
# Brevitas-style QONNX: domain onnx.brevitas, Gemm(transB=1) on Quant'd weights, batch norms
# with learned (arbitrary float) parameters, QuantReLU as Relu + unsigned Quant, a BipolarQuant
# layer (bipolar weights and activations), power-of-two activation and weight scales (Brevitas'
# fixed-point scaling, as FINN flows use), and an output Quant at a learned float scale.


def brevitas_mlp(out_dir):
    dom = "onnx.brevitas"
    n_in, h1, h2, h3, n_out = 12, 10, 8, 8, 5
    nodes, inits = [], []

    def quant(name, x, scale, zp, bits, signed, narrow, out):
        inits.extend([const(name + "_scale", scale), const(name + "_zeropt", zp), const(name + "_bitwidth", bits)])
        nodes.append(helper.make_node("Quant", [x, name + "_scale", name + "_zeropt", name + "_bitwidth"], [out], name=name,
                                      domain=dom, narrow=int(narrow), rounding_mode="ROUND", signed=int(signed)))

    def bipolar(name, x, scale, out):
        inits.append(const(name + "_scale", scale))
        nodes.append(helper.make_node("BipolarQuant", [x, name + "_scale"], [out], name=name, domain=dom))

    def gemm(name, x, w, b, out):
        nodes.append(helper.make_node("Gemm", [x, w, b], [out], name=name, alpha=1.0, beta=1.0, transB=1))

    def bn(name, x, c, out):
        g = RNG.uniform(0.5, 1.5, c).astype(F32) * RNG.choice([-1, 1], c, p=[0.2, 0.8]).astype(F32)
        b = RNG.normal(0, 0.3, c).astype(F32)
        m = RNG.normal(0, 0.5, c).astype(F32)
        v = RNG.uniform(0.3, 2.0, c).astype(F32)
        inits.extend([const(name + "_weight", g), const(name + "_bias", b), const(name + "_running_mean", m), const(name + "_running_var", v)])
        nodes.append(helper.make_node("BatchNormalization", [x, name + "_weight", name + "_bias", name + "_running_mean", name + "_running_var"],
                                      [out], name=name, epsilon=1e-5, momentum=0.9))

    # Input quantizer: signed 8-bit at 2^-5.
    quant("Quant_0", "global_in", po2(-5), 0, 8, True, False, "q_in")
    # Layer 1: 4-bit weights, per-channel power-of-two scales, BN, QuantReLU (unsigned 4-bit, 2^-2).
    inits += [const("fc1.weight", RNG.normal(0, 0.4, (h1, n_in))), const("fc1.bias", RNG.normal(0, 0.1, h1))]
    quant("Quant_1", "fc1.weight", np.array([[po2(-3)], [po2(-2)]] * (h1 // 2), dtype=F32), 0, 4, True, True, "w1q")
    gemm("Gemm_0", "q_in", "w1q", "fc1.bias", "h1")
    bn("BatchNormalization_0", "h1", h1, "bn1")
    nodes.append(helper.make_node("Relu", ["bn1"], ["r1"], name="Relu_0"))
    quant("Quant_2", "r1", po2(-2), 0, 4, False, False, "a1")
    # Layer 2: bipolar weights (scale 2^-1), BN, BipolarQuant activation.
    inits.append(const("fc2.weight", RNG.normal(0, 1, (h2, h1))))
    bipolar("BipolarQuant_0", "fc2.weight", po2(-1), "w2q")
    inits.append(const("fc2.bias", np.zeros(h2)))
    gemm("Gemm_1", "a1", "w2q", "fc2.bias", "h2")
    bn("BatchNormalization_1", "h2", h2, "bn2")
    bipolar("BipolarQuant_1", "bn2", F32(1.0), "a2")
    # Layer 3: 3-bit weights on bipolar inputs, no BN, a QuantReLU at 2^-1 (exact ties happen here).
    inits += [const("fc3.weight", RNG.normal(0, 0.5, (h3, h2))), const("fc3.bias", RNG.normal(0, 0.25, h3))]
    quant("Quant_3", "fc3.weight", po2(-2), 0, 3, True, False, "w3q")
    gemm("Gemm_2", "a2", "w3q", "fc3.bias", "h3")
    nodes.append(helper.make_node("Relu", ["h3"], ["r3"], name="Relu_1"))
    quant("Quant_4", "r3", po2(-1), 0, 3, False, False, "a3")
    # Output layer: 8-bit narrow weights, a learned float output scale.
    inits += [const("fc4.weight", RNG.normal(0, 0.3, (n_out, h3))), const("fc4.bias", RNG.normal(0, 0.2, n_out))]
    quant("Quant_5", "fc4.weight", po2(-6), 0, 8, True, True, "w4q")
    gemm("Gemm_3", "a3", "w4q", "fc4.bias", "h4")
    quant("Quant_6", "h4", F32(0.0371), 0, 8, True, False, "global_out")

    graph = helper.make_graph(nodes, "brevitas_mlp", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, [1, n_out])], inits)
    model = helper.make_model(graph, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(dom, 1)])
    model.ir_version = 8
    return model


def run_qonnx(name, out_dir, model, n_in, in_scale, lo, hi, out_scale, out_zp, has_input_quantizer=True, vectors=96):
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    save(model, path)
    # Inputs on the input grid with the extremes; with the model's own input quantizer also values
    # beyond its range and exact halfway points (the host quantizer rounds them as the model does).
    inputs = RNG.integers(lo, hi + 1, size=(vectors, n_in)).astype(F32) * F32(in_scale)
    inputs[0, :] = lo * in_scale
    inputs[1, :] = hi * in_scale
    if has_input_quantizer:
        beyond = np.stack([np.full(n_in, (hi + 10) * in_scale), np.full(n_in, (lo - 10) * in_scale)]).astype(F32)
        half = (RNG.integers(lo, hi, size=(8, n_in)).astype(F32) + F32(0.5)) * F32(in_scale)
        inputs = np.concatenate([inputs, beyond, half])
    inputs = inputs.astype(F32)
    cleaned, outs, ctxs, outs64 = qonnx_reference(path, inputs, model.graph.input[0].name)
    expected = np.round(outs / F32(out_scale)) + out_zp
    assert np.all(np.abs(outs / F32(out_scale) + out_zp - expected) < 1e-3), "reference outputs are not on the output grid"
    # Vectors where float32 execution and the same graph on real numbers (float64) disagree: a
    # quantizer input lies within float32 rounding of a rounding boundary (docs/numerics.md,
    # "float32 references"). The integer design follows the exact arithmetic there.
    exact = np.round(outs64 / np.float64(out_scale)) + out_zp
    ambiguous = [int(i) for i in np.nonzero(np.any(exact != expected, axis=1))[0]]
    # Exact rounding ties at every activation quantizer: inputs whose x / s lies halfway between integers.
    ties = {}
    inits = {i.name: numpy_helper.to_array(i) for i in cleaned.graph.initializer}
    for node in cleaned.graph.node:
        if node.op_type == "Quant" and node.input[0] not in inits:
            scale = inits[node.input[1]]
            if scale.size == 1:
                ties[node.name] = sum(tie_count(np.asarray(c[node.input[0]]).flatten(), scale.item()) for c in ctxs)
    info = {"quantizer_ties": ties, "output_scale": float(out_scale), "output_zero_point": int(out_zp), "vectors": int(len(inputs)),
            "float32_ambiguous": ambiguous}
    calib = (RNG.uniform(lo, hi, size=(64, n_in)) * in_scale).astype(F32)
    write(name, out_dir, model, inputs, calib, expected, info, cleaned)
    np.save(os.path.join(out_dir, name, "exact.npy"), exact.astype(np.int64))


# ---------------------------------------------------------------------------------------------
# QKeras-style QONNX (qonnx.converters.keras): domain finn.custom_op.general, an unquantized
# float input, MatMul on Quant'd weights, Add of a Quant'd bias, Relu + Quant activations,
# every scale a power of two (quantized_bits).


def qkeras_mlp(out_dir):
    dom = "finn.custom_op.general"
    n_in, h1, h2, n_out = 16, 12, 9, 4
    nodes, inits = [], []

    def quant(name, x, scale, bits, signed, out, narrow=False):
        inits.extend([const(name + "_scale", scale), const(name + "_zeropt", 0.0), const(name + "_bitwidth", bits)])
        nodes.append(helper.make_node("Quant", [x, name + "_scale", name + "_zeropt", name + "_bitwidth"], [out], name=name,
                                      domain=dom, narrow=int(narrow), rounding_mode="ROUND", signed=int(signed)))

    prev = "input_1"
    for i, (a, b, act) in enumerate([(n_in, h1, True), (h1, h2, True), (h2, n_out, False)]):
        inits += [const(f"dense_{i}/kernel", RNG.normal(0, 0.5, (a, b))), const(f"dense_{i}/bias", RNG.normal(0, 0.3, b))]
        quant(f"dense_{i}_kernel_quantizer", f"dense_{i}/kernel", po2(-4 if i < 2 else -5), 6, True, f"wq{i}")
        quant(f"dense_{i}_bias_quantizer", f"dense_{i}/bias", po2(-6), 8, True, f"bq{i}")
        nodes.append(helper.make_node("MatMul", [prev, f"wq{i}"], [f"mm{i}"], name=f"dense_{i}/MatMul"))
        nodes.append(helper.make_node("Add", [f"mm{i}", f"bq{i}"], [f"z{i}"], name=f"dense_{i}/BiasAdd"))
        if act:
            nodes.append(helper.make_node("Relu", [f"z{i}"], [f"r{i}"], name=f"dense_{i}_act/Relu"))
            quant(f"dense_{i}_act_quantizer", f"r{i}", po2(-3), 6, False, f"a{i}")
            prev = f"a{i}"
        else:
            quant(f"dense_{i}_out_quantizer", f"z{i}", po2(-3), 10, True, "output")
    graph = helper.make_graph(nodes, "qkeras_mlp", [helper.make_tensor_value_info("input_1", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, n_out])], inits)
    model = helper.make_model(graph, producer_name="qonnx", opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(dom, 1)])
    model.ir_version = 7
    return model


# ---------------------------------------------------------------------------------------------
# FINN-style streamlined graph: an input annotated UINT8 (integers as floats), MatMul with
# integer weights annotated INT4 / INT2, MultiThreshold (finn.custom_op.general) with float
# thresholds per channel, a scalar Mul on the last layer, and TopK (k = 1) at the output.


def finn_mlp(out_dir):
    dom = "finn.custom_op.general"
    n_in, h1, h2, n_out = 20, 14, 10, 6
    nodes, inits = [], []
    w1 = RNG.integers(-8, 8, (n_in, h1)).astype(F32)
    w2 = RNG.integers(-2, 2, (h1, h2)).astype(F32)
    w3 = RNG.integers(-8, 8, (h2, n_out)).astype(F32)
    inits += [const("W1", w1), const("W2", w2), const("W3", w3)]
    nodes.append(helper.make_node("MatMul", ["global_in", "W1"], ["m1"], name="MatMul_0"))
    # Thresholds of 4-bit unsigned outputs: 15 per channel, sorted, a mix of integer and x.5 values.
    t1 = np.sort(RNG.normal(0, 400, (h1, 15)), axis=1).astype(F32)
    t1 = np.round(t1 * 2) / 2
    inits.append(const("T1", t1))
    nodes.append(helper.make_node("MultiThreshold", ["m1", "T1"], ["a1"], name="MultiThreshold_0", domain=dom, out_dtype="UINT4"))
    nodes.append(helper.make_node("MatMul", ["a1", "W2"], ["m2"], name="MatMul_1"))
    # Signed 2-bit outputs (out_bias -2), 3 thresholds per channel.
    t2 = np.sort(RNG.normal(0, 12, (h2, 3)), axis=1).astype(F32) + F32(0.25)
    inits.append(const("T2", t2))
    nodes.append(helper.make_node("MultiThreshold", ["m2", "T2"], ["a2"], name="MultiThreshold_1", domain=dom, out_dtype="INT2",
                                  out_bias=-2.0))
    nodes.append(helper.make_node("MatMul", ["a2", "W3"], ["m3"], name="MatMul_2"))
    inits.append(const("scale3", F32(0.0625)))
    nodes.append(helper.make_node("Mul", ["m3", "scale3"], ["logits"], name="Mul_0"))
    inits.append(const("k", np.array([1], dtype=np.int64), np.int64))
    nodes.append(helper.make_node("TopK", ["logits", "k"], ["values", "global_out"], name="TopK_0", axis=-1, largest=1, sorted=1))
    graph = helper.make_graph(nodes, "finn_mlp", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("global_out", TensorProto.INT64, [1, 1])], inits)
    for tensor, dt in [("global_in", "UINT8"), ("W1", "INT4"), ("W2", "INT2"), ("W3", "INT4"), ("a1", "UINT4"), ("a2", "INT2")]:
        a = onnx.TensorAnnotation()
        a.tensor_name = tensor
        e = a.quant_parameter_tensor_names.add()
        e.key, e.value = "finn_datatype", dt
        graph.quantization_annotation.append(a)
    model = helper.make_model(graph, producer_name="finn", opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(dom, 1)])
    model.ir_version = 7
    d = os.path.join(out_dir, "finn_mlp")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    save(model, path)
    inputs = RNG.integers(0, 256, (96, n_in)).astype(F32)
    inputs[0, :], inputs[1, :] = 0, 255
    cleaned, outs, ctxs, outs64 = qonnx_reference(path, inputs, "global_in")
    assert np.array_equal(outs, outs64), "integer-valued MultiThreshold graph differs between float32 and float64"
    # Exact threshold hits: accumulators equal to an integer-valued threshold.
    hits = 0
    for c in ctxs:
        m1 = np.asarray(c[cleaned.graph.node[0].output[0]]).flatten()
        hits += int(np.isin(m1, t1).sum())
    write("finn_mlp", out_dir, model, inputs.astype(np.int64), inputs[:32].astype(np.int64), outs.astype(np.int64),
          {"threshold_hits": hits, "vectors": int(len(inputs))}, cleaned)


# ---------------------------------------------------------------------------------------------
# onnxruntime QDQ: a float MLP quantized by onnxruntime.quantization.quantize_static, per tensor
# and per channel; the reference is onnxruntime executing the QDQ graph op by op.


def qdq_mlp(out_dir, name, per_channel):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    n_in, h1, h2, n_out = 14, 11, 9, 4
    w0 = (RNG.normal(0, 0.4, (h1, n_in))).astype(F32)
    b0 = (RNG.normal(0, 0.1, h1)).astype(F32)
    w1 = (RNG.normal(0, 0.4, (h2, h1))).astype(F32)
    b1 = (RNG.normal(0, 0.1, h2)).astype(F32)
    w2 = (RNG.normal(0, 0.4, (n_out, h2))).astype(F32)
    b2 = (RNG.normal(0, 0.1, n_out)).astype(F32)
    nodes = [helper.make_node("Gemm", ["x", "W0", "b0"], ["h0"], name="fc0", transB=1), helper.make_node("Relu", ["h0"], ["a0"], name="relu0"),
             helper.make_node("MatMul", ["a0", "W1t"], ["m1"], name="fc1"), helper.make_node("Add", ["m1", "b1"], ["h1"], name="fc1_bias"),
             helper.make_node("Relu", ["h1"], ["a1"], name="relu1"),
             helper.make_node("Gemm", ["a1", "W2", "b2"], ["y"], name="fc2", transB=1)]
    g = helper.make_graph(nodes, "qdq_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])],
                          [const("W0", w0), const("b0", b0), const("W1t", w1.T.copy()), const("b1", b1), const("W2", w2), const("b2", b2)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    fpath = os.path.join(d, "float.onnx")
    save(m, fpath)
    calib = RNG.normal(0, 1, (64, n_in)).astype(F32)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"x": c.reshape(1, n_in)} for c in calib])

        def get_next(self):
            return next(self.it, None)

    qpath = os.path.join(d, "model.onnx")
    quantize_static(fpath, qpath, Reader(), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    model = onnx.load(qpath)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    so.log_severity_level = 3
    sess = ort.InferenceSession(qpath, so, providers=["CPUExecutionProvider"])
    fused = ort.InferenceSession(qpath, providers=["CPUExecutionProvider"])
    inputs = (RNG.normal(0, 1, (96, n_in)) * 1.2).astype(F32)
    outs = np.stack([sess.run(None, {"x": x.reshape(1, n_in)})[0].flatten() for x in inputs])
    fused_outs = np.stack([fused.run(None, {"x": x.reshape(1, n_in)})[0].flatten() for x in inputs])
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    ys, yz = F32(init["y_scale"]), int(init["y_zero_point"])
    expected = np.round(outs / ys) + yz
    info = {"output_scale": float(ys), "output_zero_point": yz, "vectors": int(len(inputs)),
            "fused_disagreements": int(np.sum(outs != fused_outs)), "values": int(outs.size)}
    np.save(os.path.join(d, "inputs.npy"), inputs)
    np.save(os.path.join(d, "calib.npy"), calib)
    np.save(os.path.join(d, "expected.npy"), expected.astype(np.int64))
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump(info, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# QONNX after cleanup (qonnx.custom_op.general) with the less common quantizer settings: an
# asymmetric unsigned Quant (zero point 3, HALF_UP), a Trunc (version 1, FLOOR) of it to 5 bits,
# and a narrow FLOOR output quantizer. Version 2 (domain opset 2, six inputs) instead truncates a
# signed Quant to 5 bits with an output scale 8 times the input's, rounding half to even, and clamps.


def trunc_mlp(out_dir, version=1):
    dom = "qonnx.custom_op.general"
    n_in, h1, n_out = 10, 7, 4
    nodes, inits = [], []

    def quant(name, x, scale, zp, bits, signed, narrow, rounding, out):
        inits.extend([const(name + "_scale", scale), const(name + "_zeropt", zp), const(name + "_bitwidth", bits)])
        nodes.append(helper.make_node("Quant", [x, name + "_scale", name + "_zeropt", name + "_bitwidth"], [out], name=name,
                                      domain=dom, narrow=int(narrow), rounding_mode=rounding, signed=int(signed)))

    quant("Quant_in", "global_in", po2(-4), 0, 8, True, False, "ROUND", "x")
    inits += [const("W1", RNG.normal(0, 0.5, (n_in, h1))), const("b1", RNG.normal(0, 0.4, h1))]
    quant("Quant_w1", "W1", po2(-3), 0, 6, True, False, "ROUND", "w1")
    nodes += [helper.make_node("MatMul", ["x", "w1"], ["m1"], name="MatMul_0"), helper.make_node("Add", ["m1", "b1"], ["z1"], name="Add_0")]
    if version == 1:
        quant("Quant_a1", "z1", F32(0.0713), 3, 8, False, False, "HALF_UP", "a1")
        inits += [const("Trunc_scale", F32(0.0713)), const("Trunc_zeropt", 3.0), const("Trunc_in_bits", 8.0), const("Trunc_out_bits", 5.0)]
        nodes.append(helper.make_node("Trunc", ["a1", "Trunc_scale", "Trunc_zeropt", "Trunc_in_bits", "Trunc_out_bits"], ["t1"], name="Trunc_0",
                                      domain=dom, rounding_mode="FLOOR"))
    else:
        quant("Quant_a1", "z1", F32(0.0219), 0, 8, True, False, "ROUND", "a1")
        inits += [const("Trunc_scale", F32(0.0219)), const("Trunc_zeropt", 0.0), const("Trunc_in_bits", 8.0),
                  const("Trunc_out_scale", F32(0.0219) * F32(8)), const("Trunc_out_bits", 5.0)]
        nodes.append(helper.make_node("Trunc", ["a1", "Trunc_scale", "Trunc_zeropt", "Trunc_in_bits", "Trunc_out_scale", "Trunc_out_bits"], ["t1"],
                                      name="Trunc_0", domain=dom, rounding_mode="ROUND", signed=1, narrow=0))
    inits.append(const("W2", RNG.normal(0, 0.5, (h1, n_out))))
    quant("Quant_w2", "W2", po2(-4), 0, 5, True, False, "ROUND", "w2")
    nodes.append(helper.make_node("MatMul", ["t1", "w2"], ["m2"], name="MatMul_1"))
    quant("Quant_out", "m2", F32(0.05), 0, 8, True, True, "FLOOR", "global_out")
    graph = helper.make_graph(nodes, "trunc_mlp", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, [1, n_out])], inits)
    model = helper.make_model(graph, producer_name="qonnx", opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(dom, version)])
    model.ir_version = 8
    return model


# ---------------------------------------------------------------------------------------------
# ONNX integer operators: QLinearMatMul, then MatMulInteger + Cast + Mul + Add + Relu + QuantizeLinear.
# The reference is onnxruntime with graph optimizations disabled. Weights stay within ±63 so
# onnxruntime's u8s8 kernel cannot saturate its 16-bit pair sums on this x86.


def qlinear_mlp(out_dir):
    n_in, h1, n_out = 12, 9, 5
    sx, zx = F32(0.031), 117
    s1, z1 = F32(0.047), 9
    sy, zy = F32(0.083), 120
    w1 = RNG.integers(-63, 64, (n_in, h1)).astype(np.int8)
    sw1 = F32(0.0071)
    w2 = RNG.integers(-63, 64, (h1, n_out)).astype(np.int8)
    sw2 = F32(0.0093)
    b2 = RNG.normal(0, 0.2, n_out).astype(F32)
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["qx"], name="quant_in"),
        helper.make_node("QLinearMatMul", ["qx", "sx", "zx", "W1", "sw1", "zw", "s1", "z1"], ["q1"], name="qlinear0"),
        helper.make_node("MatMulInteger", ["q1", "W2", "z1", "zw"], ["acc2"], name="mmint1"),
        helper.make_node("Cast", ["acc2"], ["f2"], name="cast1", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["f2", "s12"], ["r2"], name="scale1"),
        helper.make_node("Add", ["r2", "b2"], ["h2"], name="bias1"),
        helper.make_node("Relu", ["h2"], ["a2"], name="relu1"),
        helper.make_node("QuantizeLinear", ["a2", "sy", "zy"], ["qy"], name="quant_out"),
        helper.make_node("DequantizeLinear", ["qy", "sy", "zy"], ["y"], name="dequant_out"),
    ]
    inits = [const("sx", sx), numpy_helper.from_array(np.array(zx, dtype=np.uint8), "zx"), numpy_helper.from_array(w1, "W1"),
             const("sw1", sw1), numpy_helper.from_array(np.array(0, dtype=np.int8), "zw"), const("s1", s1),
             numpy_helper.from_array(np.array(z1, dtype=np.uint8), "z1"), numpy_helper.from_array(w2, "W2"),
             const("s12", F32(s1 * sw2)), const("b2", b2), const("sy", sy), numpy_helper.from_array(np.array(zy, dtype=np.uint8), "zy")]
    graph = helper.make_graph(nodes, "qlinear_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, n_in])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n_out])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    d = os.path.join(out_dir, "qlinear_mlp")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    save(model, path)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    inputs = (RNG.normal(0, 1.5, (96, n_in))).astype(F32)
    outs = np.stack([sess.run(None, {"x": x.reshape(1, n_in)})[0].flatten() for x in inputs])
    expected = np.round(outs / sy) + zy
    np.save(os.path.join(d, "inputs.npy"), inputs)
    np.save(os.path.join(d, "calib.npy"), inputs[:16])
    np.save(os.path.join(d, "expected.npy"), expected.astype(np.int64))
    with open(os.path.join(d, "info.json"), "w") as f:
        json.dump({"output_scale": float(sy), "output_zero_point": zy, "vectors": int(len(inputs))}, f, indent=1, sort_keys=True)


# ---------------------------------------------------------------------------------------------
# A Brevitas-style QONNX CNN (onnx.brevitas): an 8-bit input Quant, Conv on 4-bit per-channel
# Quant'd weights with a batch norm and a QuantReLU, MaxPool on the quantized map, a strided
# padded Conv, GlobalAveragePool followed by a Quant (as QuantAvgPool2d requantizes), a Gemm
# head and a learned-scale output Quant.


def brevitas_cnn(out_dir):
    dom = "onnx.brevitas"
    cin, c1, c2, n_out = 2, 6, 8, 4
    nodes, inits = [], []

    def quant(name, x, scale, zp, bits, signed, narrow, out):
        inits.extend([const(name + "_scale", scale), const(name + "_zeropt", zp), const(name + "_bitwidth", bits)])
        nodes.append(helper.make_node("Quant", [x, name + "_scale", name + "_zeropt", name + "_bitwidth"], [out], name=name,
                                      domain=dom, narrow=int(narrow), rounding_mode="ROUND", signed=int(signed)))

    quant("Quant_0", "global_in", po2(-4), 0, 8, True, False, "x")
    inits.append(const("conv1.weight", RNG.normal(0, 0.4, (c1, cin, 3, 3))))
    quant("Quant_1", "conv1.weight", np.array([po2(-3), po2(-2)] * (c1 // 2), dtype=F32).reshape(c1, 1, 1, 1), 0, 4, True, True, "w1")
    nodes.append(helper.make_node("Conv", ["x", "w1"], ["c1"], name="Conv_0", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]))
    g = (RNG.uniform(0.5, 1.5, c1) * RNG.choice([-1, 1], c1, p=[0.2, 0.8])).astype(F32)
    inits += [const("bn1_g", g), const("bn1_b", RNG.normal(0, 0.3, c1)), const("bn1_m", RNG.normal(0, 0.5, c1)), const("bn1_v", RNG.uniform(0.3, 2.0, c1))]
    nodes.append(helper.make_node("BatchNormalization", ["c1", "bn1_g", "bn1_b", "bn1_m", "bn1_v"], ["n1"], name="BatchNormalization_0", epsilon=1e-5))
    nodes.append(helper.make_node("Relu", ["n1"], ["r1"], name="Relu_0"))
    quant("Quant_2", "r1", po2(-2), 0, 4, False, False, "a1")
    nodes.append(helper.make_node("MaxPool", ["a1"], ["p1"], name="MaxPool_0", kernel_shape=[2, 2], strides=[2, 2]))
    inits.append(const("conv2.weight", RNG.normal(0, 0.3, (c2, c1, 3, 3))))
    quant("Quant_3", "conv2.weight", po2(-3), 0, 4, True, True, "w2")
    inits.append(const("conv2.bias", RNG.normal(0, 0.2, c2)))
    nodes.append(helper.make_node("Conv", ["p1", "w2", "conv2.bias"], ["c2"], name="Conv_1", kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]))
    nodes.append(helper.make_node("Relu", ["c2"], ["r2"], name="Relu_1"))
    quant("Quant_4", "r2", po2(-2), 0, 4, False, False, "a2")
    nodes.append(helper.make_node("GlobalAveragePool", ["a2"], ["g"], name="GlobalAveragePool_0"))
    quant("Quant_5", "g", po2(-4), 0, 8, False, False, "gq")
    nodes.append(helper.make_node("Flatten", ["gq"], ["f"], name="Flatten_0", axis=1))
    inits += [const("fc.weight", RNG.normal(0, 0.4, (n_out, c2))), const("fc.bias", RNG.normal(0, 0.1, n_out))]
    quant("Quant_6", "fc.weight", po2(-5), 0, 8, True, True, "wf")
    nodes.append(helper.make_node("Gemm", ["f", "wf", "fc.bias"], ["h"], name="Gemm_0", transB=1))
    quant("Quant_7", "h", F32(0.0437), 0, 8, True, False, "global_out")
    graph = helper.make_graph(nodes, "brevitas_cnn", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, cin, 8, 8])],
                              [helper.make_tensor_value_info("global_out", TensorProto.FLOAT, [1, n_out])], inits)
    model = helper.make_model(graph, producer_name="pytorch", opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(dom, 1)])
    model.ir_version = 8
    return model


# ---------------------------------------------------------------------------------------------
# A FINN-streamlined CNN (CNV-style, 2-bit weights and activations): UINT8 input annotation,
# Conv on INT2 integer weights, per-channel MultiThreshold activations on the NCHW maps,
# MaxPool on the thresholded integers, a second Conv and MultiThreshold, then MatMul, Mul and TopK.


def finn_cnn(out_dir):
    dom = "finn.custom_op.general"
    cin, c1, c2, n_out, hw = 3, 8, 8, 5, 10
    w1 = RNG.integers(-2, 2, (c1, cin, 3, 3)).astype(F32)
    w2 = RNG.integers(-2, 2, (c2, c1, 3, 3)).astype(F32)
    w3 = RNG.integers(-2, 2, (c2 * 3 * 3, n_out)).astype(F32)
    t1 = np.sort(RNG.normal(0, 300, (c1, 3)), axis=1).astype(F32)
    t1 = np.round(t1 * 2) / 2
    t2 = np.sort(RNG.normal(0, 12, (c2, 3)), axis=1).astype(F32) + F32(0.5)
    nodes = [helper.make_node("Conv", ["global_in", "W1"], ["m1"], name="Conv_0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("MultiThreshold", ["m1", "T1"], ["a1"], name="MultiThreshold_0", domain=dom, out_dtype="UINT2"),
             helper.make_node("MaxPool", ["a1"], ["p1"], name="MaxPool_0", kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "W2"], ["m2"], name="Conv_1", kernel_shape=[3, 3]),
             helper.make_node("MultiThreshold", ["m2", "T2"], ["a2"], name="MultiThreshold_1", domain=dom, out_dtype="UINT2"),
             helper.make_node("Flatten", ["a2"], ["f"], name="Flatten_0"),
             helper.make_node("MatMul", ["f", "W3"], ["m3"], name="MatMul_0"),
             helper.make_node("Mul", ["m3", "scale3"], ["logits"], name="Mul_0"),
             helper.make_node("TopK", ["logits", "k"], ["values", "global_out"], name="TopK_0", axis=-1, largest=1, sorted=1)]
    inits = [const("W1", w1), const("W2", w2), const("W3", w3), const("T1", t1), const("T2", t2), const("scale3", F32(0.125)),
             const("k", np.array([1], dtype=np.int64), np.int64)]
    graph = helper.make_graph(nodes, "finn_cnn", [helper.make_tensor_value_info("global_in", TensorProto.FLOAT, [1, cin, hw, hw])],
                              [helper.make_tensor_value_info("global_out", TensorProto.INT64, [1, 1])], inits)
    for tensor, dt in [("global_in", "UINT8"), ("W1", "INT2"), ("W2", "INT2"), ("W3", "INT2"), ("a1", "UINT2"), ("a2", "UINT2"), ("p1", "UINT2")]:
        a = onnx.TensorAnnotation()
        a.tensor_name = tensor
        e = a.quant_parameter_tensor_names.add()
        e.key, e.value = "finn_datatype", dt
        graph.quantization_annotation.append(a)
    model = helper.make_model(graph, producer_name="finn", opset_imports=[helper.make_opsetid("", 11), helper.make_opsetid(dom, 1)])
    model.ir_version = 7
    d = os.path.join(out_dir, "finn_cnn")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "model.onnx")
    save(model, path)
    n_in = cin * hw * hw
    inputs = RNG.integers(0, 256, (24, n_in)).astype(F32)
    inputs[0, :], inputs[1, :] = 0, 255
    cleaned, outs, ctxs, outs64 = qonnx_reference(path, inputs, "global_in")
    assert np.array_equal(outs, outs64), "integer-valued MultiThreshold graph differs between float32 and float64"
    hits = 0
    for c in ctxs:
        m1 = np.asarray(c[cleaned.graph.node[0].output[0]]).reshape(c1, -1)
        hits += int(sum(np.isin(m1[ch], t1[ch]).sum() for ch in range(c1)))
    write("finn_cnn", out_dir, model, inputs.astype(np.int64), inputs[:8].astype(np.int64), outs.astype(np.int64),
          {"threshold_hits": hits, "vectors": int(len(inputs))}, cleaned)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    run_qonnx("brevitas_mlp", out, brevitas_mlp(out), 12, po2(-5), -128, 127, F32(0.0371), 0)
    # QKeras has no input quantizer: inputs on the grid LUTForge's 8-bit power-of-two input quantizer
    # picks for this calibration range (2^-4 for |x| < 7.94) are exact.
    run_qonnx("qkeras_mlp", out, qkeras_mlp(out), 16, po2(-4), -127, 127, po2(-3), 0, has_input_quantizer=False)
    finn_mlp(out)
    run_qonnx("trunc_mlp", out, trunc_mlp(out), 10, po2(-4), -128, 127, F32(0.05), 0)
    run_qonnx("trunc2_mlp", out, trunc_mlp(out, version=2), 10, po2(-4), -128, 127, F32(0.05), 0)
    qlinear_mlp(out)
    run_qonnx("brevitas_cnn", out, brevitas_cnn(out), 128, po2(-4), -128, 127, F32(0.0437), 0, vectors=24)
    finn_cnn(out)
    qdq_mlp(out, "qdq_mlp", False)
    qdq_mlp(out, "qdq_perchannel_mlp", True)
    print("wrote", ", ".join(sorted(os.listdir(out))))


if __name__ == "__main__":
    main()
