// Writes a ModelGraph.Graph as an ONNX model (opset 13, QONNX ops in
// qonnx.custom_op.general): used to build test and difftest models without
// Python, and the inverse of ONNXReader for the ops it knows.
import Foundation
import ModelGraph
import SwiftProtobuf

/// Writer for ONNX (`.onnx`) model files.
public enum ONNXWriter {
    /// How initializers are stored: ONNX allows raw little-endian bytes or typed fields.
    public enum TensorStorage: Sendable {
        /// `raw_data` bytes (what PyTorch and onnx.numpy_helper write).
        case raw
        /// `float_data` / `int64_data` fields.
        case typed
    }

    static func dataType(_ d: DType) -> Int32 {
        let t: Onnx_TensorProto.DataType = switch d {
        case .float32: .float
        case .float64: .double
        case .float16: .float16
        case .bfloat16: .undefined
        case .int8: .int8
        case .uint8: .uint8
        case .int16: .int16
        case .uint16: .uint16
        case .int32: .int32
        case .uint32: .uint32
        case .int64: .int64
        case .uint64: .uint64
        case .bool: .bool
        }
        return Int32(t.rawValue)
    }

    /// The ONNX tensor of `tensor` named `name`.
    static func tensorProto(_ name: String, _ tensor: FloatTensor, storage: TensorStorage) -> Onnx_TensorProto {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = tensor.shape.map { Int64($0) }
        if let ints = tensor.ints, tensor.dtype.isInteger {
            t.dataType = dataType(tensor.dtype)
            let width: Int = switch tensor.dtype {
            case .int8, .uint8, .bool: 1
            case .int16, .uint16: 2
            case .int32, .uint32: 4
            default: 8
            }
            if storage == .typed && tensor.dtype == .int64 {
                t.int64Data = ints.map { Int64($0) }
            } else {
                var bytes = Data(capacity: ints.count * width)
                for v in ints {
                    var x = UInt64(bitPattern: Int64(v))
                    for _ in 0..<width { bytes.append(UInt8(x & 0xff)); x >>= 8 }
                }
                t.rawData = bytes
            }
            return t
        }
        t.dataType = dataType(.float32)
        switch storage {
        case .raw:
            var bytes = Data(capacity: tensor.count * 4)
            for v in tensor.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
            t.rawData = bytes
        case .typed:
            t.floatData = tensor.data
        }
        return t
    }

    /// Serialises `graph` to ONNX bytes.
    public static func serialize(_ graph: Graph, storage: TensorStorage = .raw) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "lutforge"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = Int64(graph.opsets[""] ?? 13)
        var q = Onnx_OperatorSetIdProto()
        q.domain = "qonnx.custom_op.general"
        q.version = 1
        model.opsetImport = [opset] + (graph.nodes.contains { !$0.op.domain.isEmpty } ? [q] : [])
        var g = Onnx_GraphProto()
        g.name = graph.name
        g.input = graph.inputs.map(valueInfo)
        g.output = graph.outputs.map(valueInfo)
        for key in graph.initializers.keys.sorted() {
            g.initializer.append(tensorProto(key, graph.initializers[key]!, storage: storage))
        }
        for node in graph.nodes {
            var n = Onnx_NodeProto()
            n.name = node.name
            n.input = node.inputs
            n.output = node.outputs
            n.opType = node.op.onnxName
            n.domain = node.op.domain
            n.attribute = attributes(node.op)
            g.node.append(n)
        }
        for key in graph.datatypes.keys.sorted() {
            var a = Onnx_TensorAnnotation()
            a.tensorName = key
            var e = Onnx_StringStringEntryProto()
            e.key = "finn_datatype"
            e.value = graph.datatypes[key]!
            a.quantParameterTensorNames = [e]
            g.quantizationAnnotation.append(a)
        }
        model.graph = g
        return try model.serializedData()
    }

    static func attributes(_ op: Op) -> [Onnx_AttributeProto] {
        func conv(_ c: ConvAttributes) -> [Onnx_AttributeProto] {
            var out = [intAttr("group", c.group), stringAttr("auto_pad", c.autoPad)]
            if let k = c.kernelShape { out.append(intsAttr("kernel_shape", k)) }
            if let s = c.strides { out.append(intsAttr("strides", s)) }
            if let p = c.pads { out.append(intsAttr("pads", p)) }
            if let d = c.dilations { out.append(intsAttr("dilations", d)) }
            return out
        }
        switch op {
        case let .gemm(alpha, beta, transA, transB):
            return [floatAttr("alpha", alpha), floatAttr("beta", beta), intAttr("transA", transA ? 1 : 0), intAttr("transB", transB ? 1 : 0)]
        case let .flatten(axis): return [intAttr("axis", axis)]
        case let .softmax(axis): return [intAttr("axis", axis)]
        case let .clip(lo, hi): return (lo.map { [floatAttr("min", $0)] } ?? []) + (hi.map { [floatAttr("max", $0)] } ?? [])
        case let .reshape(allowZero): return allowZero ? [intAttr("allowzero", 1)] : []
        case let .transpose(perm): return perm.map { [intsAttr("perm", $0)] } ?? []
        case let .squeeze(axes), let .unsqueeze(axes): return axes.map { [intsAttr("axes", $0)] } ?? []
        case let .shape(start, end): return [intAttr("start", start)] + (end.map { [intAttr("end", $0)] } ?? [])
        case let .gather(axis), let .concat(axis): return [intAttr("axis", axis)]
        case let .cast(to): return [intAttr("to", Int(dataType(to)))]
        case let .batchNormalization(epsilon): return [floatAttr("epsilon", epsilon)]
        case let .topK(axis, largest, sorted): return [intAttr("axis", axis), intAttr("largest", largest ? 1 : 0), intAttr("sorted", sorted ? 1 : 0)]
        case let .argMax(axis, keepDims, last): return [intAttr("axis", axis), intAttr("keepdims", keepDims ? 1 : 0), intAttr("select_last_index", last ? 1 : 0)]
        case let .quant(signed, narrow, rounding):
            return [intAttr("signed", signed ? 1 : 0), intAttr("narrow", narrow ? 1 : 0), stringAttr("rounding_mode", rounding.rawValue)]
        case let .trunc(rounding, signed, narrow, version):
            return [stringAttr("rounding_mode", rounding.rawValue)] + (version == 2 ? [intAttr("signed", signed ? 1 : 0), intAttr("narrow", narrow ? 1 : 0)] : [])
        case let .multiThreshold(outDType, outScale, outBias, layout):
            return [stringAttr("out_dtype", outDType), floatAttr("out_scale", outScale), floatAttr("out_bias", outBias)]
                + (layout.isEmpty ? [] : [stringAttr("data_layout", layout)])
        case let .quantizeLinear(axis, _): return [intAttr("axis", axis)]
        case let .dequantizeLinear(axis): return [intAttr("axis", axis)]
        case let .conv(c), let .convInteger(c), let .qLinearConv(c): return conv(c)
        case let .maxPool(p), let .averagePool(p, _):
            var out = [intsAttr("kernel_shape", p.kernelShape), stringAttr("auto_pad", p.autoPad), intAttr("ceil_mode", p.ceilMode ? 1 : 0)]
            if let s = p.strides { out.append(intsAttr("strides", s)) }
            if let q = p.pads { out.append(intsAttr("pads", q)) }
            if let d = p.dilations { out.append(intsAttr("dilations", d)) }
            if case let .averagePool(_, include) = op { out.append(intAttr("count_include_pad", include ? 1 : 0)) }
            return out
        case let .pad(pads, value):
            return [stringAttr("mode", "constant")] + (pads.map { [intsAttr("pads", $0)] } ?? []) + (value.map { [floatAttr("value", $0)] } ?? [])
        case .globalAveragePool, .globalMaxPool: return []
        case .matMul, .add, .sub, .mul, .div, .relu, .sigmoid, .identity, .bipolarQuant, .qLinearMatMul, .matMulInteger: return []
        }
    }

    /// Writes `graph` to `path`.
    public static func write(_ graph: Graph, to path: String, storage: TensorStorage = .raw) throws {
        try serialize(graph, storage: storage).write(to: URL(fileURLWithPath: path))
    }

    static func valueInfo(_ v: ValueInfo) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = v.name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = dataType(v.dtype)
        tensor.shape.dim = v.shape.map { d in
            var dim = Onnx_TensorShapeProto.Dimension()
            if let d { dim.dimValue = Int64(d) } else { dim.dimParam = "N" }
            return dim
        }
        info.type.tensorType = tensor
        return info
    }

    static func floatAttr(_ name: String, _ v: Float) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .float
        a.f = v
        return a
    }

    static func intAttr(_ name: String, _ v: Int) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .int
        a.i = Int64(v)
        return a
    }

    static func intsAttr(_ name: String, _ v: [Int]) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .ints
        a.ints = v.map { Int64($0) }
        return a
    }

    static func stringAttr(_ name: String, _ v: String) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        a.type = .string
        a.s = Data(v.utf8)
        return a
    }
}
