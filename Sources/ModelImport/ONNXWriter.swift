// Writes a ModelGraph.Graph as an ONNX model (opset 13): used to build test and
// difftest models without Python, and the inverse of ONNXReader for the ops it knows.
import Foundation
import ModelGraph
import SwiftProtobuf

/// Writer for ONNX (`.onnx`) model files.
public enum ONNXWriter {
    /// How initializers are stored: ONNX allows raw little-endian bytes or typed fields.
    public enum TensorStorage: Sendable {
        /// `raw_data` bytes (what PyTorch and onnx.numpy_helper write).
        case raw
        /// `float_data` fields.
        case typed
    }

    /// Serialises `graph` to ONNX bytes.
    public static func serialize(_ graph: Graph, storage: TensorStorage = .raw) throws -> Data {
        var model = Onnx_ModelProto()
        model.irVersion = 8
        model.producerName = "lutforge"
        var opset = Onnx_OperatorSetIdProto()
        opset.version = 13
        model.opsetImport = [opset]
        var g = Onnx_GraphProto()
        g.name = graph.name
        g.input = graph.inputs.map(valueInfo)
        g.output = graph.outputs.map(valueInfo)
        for key in graph.initializers.keys.sorted() {
            let tensor = graph.initializers[key]!
            var t = Onnx_TensorProto()
            t.name = key
            t.dims = tensor.shape.map { Int64($0) }
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            switch storage {
            case .raw:
                var bytes = Data(capacity: tensor.count * 4)
                for v in tensor.data { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
                t.rawData = bytes
            case .typed:
                t.floatData = tensor.data
            }
            g.initializer.append(t)
        }
        for node in graph.nodes {
            var n = Onnx_NodeProto()
            n.name = node.name
            n.input = node.inputs
            n.output = node.outputs
            n.opType = node.op.onnxName
            switch node.op {
            case let .gemm(alpha, beta, transA, transB):
                n.attribute = [floatAttr("alpha", alpha), floatAttr("beta", beta), intAttr("transA", transA ? 1 : 0), intAttr("transB", transB ? 1 : 0)]
            case let .flatten(axis): n.attribute = [intAttr("axis", axis)]
            case let .softmax(axis): n.attribute = [intAttr("axis", axis)]
            case .matMul, .add, .relu, .sigmoid, .identity: break
            }
            g.node.append(n)
        }
        model.graph = g
        return try model.serializedData()
    }

    /// Writes `graph` to `path`.
    public static func write(_ graph: Graph, to path: String, storage: TensorStorage = .raw) throws {
        try serialize(graph, storage: storage).write(to: URL(fileURLWithPath: path))
    }

    static func valueInfo(_ v: ValueInfo) -> Onnx_ValueInfoProto {
        var info = Onnx_ValueInfoProto()
        info.name = v.name
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
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
}
