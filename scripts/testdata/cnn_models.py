#!/usr/bin/env python3
"""Writes the float CNN test models of LUTForge in the forms exporters produce, with
seeded inputs, calibration vectors and onnxruntime's outputs.

    python scripts/testdata/cnn_models.py OUT_DIR

OUT_DIR/<name>/model.onnx, inputs.npy, calib.npy, expected.npy (onnxruntime, float32):
  torch2d    PyTorch form (NCHW input): Conv with pads, BatchNormalization, Relu,
             MaxPool, a strided Conv, AveragePool, Flatten, Gemm(transB=1)
  keras2d    Keras/tf2onnx form (NHWC input): Transpose to NCHW around the convs,
             SAME padding, Transpose back to NHWC, Reshape, MatMul + Add
  conv1d     1-D convolutions (NCW) with a dilated Conv, MaxPool, GlobalAveragePool
  dwsep      a depthwise-separable block: depthwise Conv (group = C), pointwise Conv,
             a Pad folded into the depthwise Conv, GlobalMaxPool
  residual   a residual block: the stem's output forks to two convolutions and an Add
  concat     two branches of different widths joined by a channel Concat
Nothing here is committed output: the tests run this script into a temporary directory.
"""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F32 = np.float32
RNG = np.random.default_rng(20261203)


def t(name, a, dtype=F32):
    return numpy_helper.from_array(np.asarray(a, dtype=dtype), name)


def w(shape, scale=0.4):
    return RNG.normal(0, scale, shape).astype(F32)


def bn(name, x, c, out):
    inits = [t(name + "_g", RNG.uniform(0.6, 1.4, c)), t(name + "_b", RNG.normal(0, 0.2, c)), t(name + "_m", RNG.normal(0, 0.3, c)),
             t(name + "_v", RNG.uniform(0.4, 1.6, c))]
    return helper.make_node("BatchNormalization", [x, name + "_g", name + "_b", name + "_m", name + "_v"], [out], name=name, epsilon=1e-5), inits


def save(out, name, nodes, inits, in_shape, out_shape, inputs, producer, opset=13):
    d = os.path.join(out, name)
    os.makedirs(d, exist_ok=True)
    graph = helper.make_graph(nodes, name, [helper.make_tensor_value_info("input", TensorProto.FLOAT, in_shape)],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)], inits)
    model = helper.make_model(graph, producer_name=producer, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = os.path.join(d, "model.onnx")
    onnx.save(model, path)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    flat = inputs.reshape(len(inputs), -1).astype(F32)
    outs = np.stack([sess.run(None, {"input": x.reshape(in_shape)})[0].flatten() for x in flat])
    np.save(os.path.join(d, "inputs.npy"), flat[:len(flat) // 2])
    np.save(os.path.join(d, "calib.npy"), flat[len(flat) // 2:])
    np.save(os.path.join(d, "expected.npy"), outs[:len(flat) // 2].astype(F32))


def torch2d(out):
    c1, c2, n = 6, 8, 5
    nodes, inits = [], []
    nodes.append(helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="Conv_0", kernel_shape=[3, 3], pads=[1, 1, 1, 1]))
    inits += [t("w1", w((c1, 2, 3, 3))), t("b1", w(c1, 0.1))]
    node, i = bn("BatchNormalization_0", "c1", c1, "n1")
    nodes.append(node)
    inits += i
    nodes += [helper.make_node("Relu", ["n1"], ["r1"], name="Relu_0"),
              helper.make_node("MaxPool", ["r1"], ["p1"], name="MaxPool_0", kernel_shape=[2, 2], strides=[2, 2]),
              helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="Conv_1", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
              helper.make_node("Relu", ["c2"], ["r2"], name="Relu_1"),
              helper.make_node("AveragePool", ["r2"], ["p2"], name="AveragePool_0", kernel_shape=[2, 2], strides=[1, 1]),
              helper.make_node("Flatten", ["p2"], ["f"], name="Flatten_0", axis=1),
              helper.make_node("Gemm", ["f", "w3", "b3"], ["output"], name="Gemm_0", transB=1)]
    inits += [t("w2", w((c2, c1, 3, 3), 0.25)), t("b2", w(c2, 0.1)), t("w3", w((n, c2 * 2 * 2), 0.3)), t("b3", w(n, 0.1))]
    x = RNG.normal(0, 1, (64, 2, 10, 10)).astype(F32)
    save(out, "torch2d", nodes, inits, [1, 2, 10, 10], [1, n], x, "pytorch")


def keras2d(out):
    h, wd, c, c1, n = 8, 7, 3, 5, 4
    nodes = [helper.make_node("Transpose", ["input"], ["nchw"], name="transpose_in", perm=[0, 3, 1, 2]),
             helper.make_node("Conv", ["nchw", "k1", "b1"], ["c1"], name="conv2d", kernel_shape=[3, 3], auto_pad="SAME_UPPER"),
             helper.make_node("Relu", ["c1"], ["r1"], name="conv2d_relu"),
             helper.make_node("Conv", ["r1", "k2", "b2"], ["c2"], name="conv2d_1", kernel_shape=[2, 2], strides=[2, 2], auto_pad="VALID"),
             helper.make_node("Relu", ["c2"], ["r2"], name="conv2d_1_relu"),
             helper.make_node("Transpose", ["r2"], ["nhwc"], name="transpose_out", perm=[0, 2, 3, 1]),
             helper.make_node("Reshape", ["nhwc", "shape"], ["flat"], name="flatten"),
             helper.make_node("MatMul", ["flat", "k3"], ["m"], name="dense"),
             helper.make_node("Add", ["m", "b3"], ["output"], name="dense_bias")]
    inits = [t("k1", w((c1, c, 3, 3))), t("b1", w(c1, 0.1)), t("k2", w((c1, c1, 2, 2), 0.3)), t("b2", w(c1, 0.1)),
             t("shape", [1, -1], np.int64), t("k3", w((4 * 3 * c1, n), 0.3)), t("b3", w(n, 0.1))]
    x = RNG.uniform(0, 1, (64, h, wd, c)).astype(F32)
    save(out, "keras2d", nodes, inits, [1, h, wd, c], [1, n], x, "tf2onnx")


def conv1d(out):
    c, c1, c2, n = 4, 6, 5, 3
    nodes = [helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], name="conv1d_0", kernel_shape=[3], pads=[1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu_0"),
             helper.make_node("MaxPool", ["r1"], ["p1"], name="maxpool_0", kernel_shape=[2], strides=[2]),
             helper.make_node("Conv", ["p1", "w2", "b2"], ["c2"], name="conv1d_1", kernel_shape=[3], dilations=[2], pads=[2, 2]),
             helper.make_node("Relu", ["c2"], ["r2"], name="relu_1"),
             helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["output"], name="fc", transB=1)]
    inits = [t("w1", w((c1, c, 3))), t("b1", w(c1, 0.1)), t("w2", w((c2, c1, 3), 0.3)), t("b2", w(c2, 0.1)), t("w3", w((n, c2))), t("b3", w(n, 0.1))]
    x = RNG.normal(0, 1, (64, c, 16)).astype(F32)
    save(out, "conv1d", nodes, inits, [1, c, 16], [1, n], x, "pytorch")


def dwsep(out):
    c, c2, n = 4, 6, 3
    nodes = [helper.make_node("Pad", ["input", "pads"], ["padded"], name="pad"),
             helper.make_node("Conv", ["padded", "dw", "db"], ["d"], name="depthwise", kernel_shape=[3, 3], group=c),
             helper.make_node("Relu", ["d"], ["dr"], name="depthwise_relu"),
             helper.make_node("Conv", ["dr", "pw", "pb"], ["p"], name="pointwise", kernel_shape=[1, 1]),
             helper.make_node("Relu", ["p"], ["pr"], name="pointwise_relu"),
             helper.make_node("GlobalMaxPool", ["pr"], ["g"], name="gmp"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["output"], name="fc", transB=1)]
    inits = [t("pads", [0, 0, 1, 1, 0, 0, 1, 1], np.int64), t("dw", w((c, 1, 3, 3), 0.5)), t("db", w(c, 0.1)),
             t("pw", w((c2, c, 1, 1), 0.5)), t("pb", w(c2, 0.1)), t("w3", w((n, c2))), t("b3", w(n, 0.1))]
    x = RNG.normal(0, 1, (64, c, 6, 6)).astype(F32)
    save(out, "dwsep", nodes, inits, [1, c, 6, 6], [1, n], x, "pytorch")


def residual(out):
    c, n = 4, 3
    nodes = [helper.make_node("Conv", ["input", "w0", "b0"], ["c0"], name="stem", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c0"], ["r0"], name="stem_relu"),
             helper.make_node("Conv", ["r0", "w1", "b1"], ["c1"], name="block_conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="block_relu1"),
             helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], name="block_conv2", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["c2", "r0"], ["s"], name="block_add"),
             helper.make_node("Relu", ["s"], ["r2"], name="block_relu2"),
             helper.make_node("GlobalAveragePool", ["r2"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["output"], name="fc", transB=1)]
    inits = [t("w0", w((c, 1, 3, 3), 0.5)), t("b0", w(c, 0.1)), t("w1", w((c, c, 3, 3), 0.3)), t("b1", w(c, 0.1)),
             t("w2", w((c, c, 3, 3), 0.3)), t("b2", w(c, 0.1)), t("w3", w((n, c))), t("b3", w(n, 0.1))]
    x = RNG.normal(0, 1, (64, 1, 7, 7)).astype(F32)
    save(out, "residual", nodes, inits, [1, 1, 7, 7], [1, n], x, "pytorch")


def concat(out):
    c, n = 3, 4
    nodes = [helper.make_node("Conv", ["input", "wa", "ba"], ["a"], name="branch_a", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["ar"], name="branch_a_relu"),
             helper.make_node("Conv", ["input", "wb", "bb"], ["b"], name="branch_b", kernel_shape=[1, 1]),
             helper.make_node("Relu", ["b"], ["br"], name="branch_b_relu"),
             helper.make_node("Concat", ["ar", "br"], ["cat"], name="concat", axis=1),
             helper.make_node("Conv", ["cat", "wc", "bc"], ["cc"], name="merge", kernel_shape=[3, 3], strides=[2, 2]),
             helper.make_node("Relu", ["cc"], ["cr"], name="merge_relu"),
             helper.make_node("Flatten", ["cr"], ["f"], name="flatten"),
             helper.make_node("Gemm", ["f", "w3", "b3"], ["output"], name="fc", transB=1)]
    inits = [t("wa", w((3, c, 3, 3))), t("ba", w(3, 0.1)), t("wb", w((2, c, 1, 1))), t("bb", w(2, 0.1)),
             t("wc", w((4, 5, 3, 3), 0.3)), t("bc", w(4, 0.1)), t("w3", w((n, 4 * 2 * 2))), t("b3", w(n, 0.1))]
    x = RNG.normal(0, 1, (64, c, 5, 5)).astype(F32)
    save(out, "concat", nodes, inits, [1, c, 5, 5], [1, n], x, "pytorch")


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for f in (torch2d, keras2d, conv1d, dwsep, residual, concat):
        f(out)
    print("wrote", ", ".join(sorted(os.listdir(out))))


if __name__ == "__main__":
    main()
