// Reads an ONNX model file into a ModelGraph.Graph, with typed attributes and
// float initializers, rejecting anything LUTForge cannot compute exactly.
import Foundation
import ModelGraph
import SwiftProtobuf

/// Reader for ONNX (`.onnx`) model files.
public enum ONNXReader {
    /// Reads and verifies the model at `path`.
    public static func read(path: String) throws -> Graph {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw ImportError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        return try read(data: data, file: path)
    }

    /// Decodes and verifies a model from bytes; `file` names it in messages.
    public static func read(data: Data, file: String) throws -> Graph {
        guard !data.isEmpty else { throw ImportError.malformed(file: file, reason: "empty file, not an ONNX model") }
        let model: Onnx_ModelProto
        do {
            model = try Onnx_ModelProto(serializedBytes: data)
        } catch {
            throw ImportError.malformed(file: file, reason: "not a valid ONNX model (protobuf decoding failed: \(error)); is the file truncated?")
        }
        guard model.hasGraph else { throw ImportError.malformed(file: file, reason: "not a valid ONNX model (no graph)") }
        let graph = try convert(model.graph, file: file)
        do {
            try graph.verify()
        } catch let error as GraphError {
            throw ImportError.invalidGraph(file: file, reason: error.description)
        }
        return graph
    }

    static func convert(_ g: Onnx_GraphProto, file: String) throws -> Graph {
        var initializers: [String: FloatTensor] = [:]
        for tensor in g.initializer {
            initializers[tensor.name] = try floatTensor(tensor, file: file)
        }
        let inputs = g.input.filter { initializers[$0.name] == nil }.map(valueInfo)
        var nodes: [Node] = []
        for (index, n) in g.node.enumerated() {
            let name = n.name.isEmpty ? "\(n.opType)_\(index)" : n.name
            // Constant nodes are initializers in disguise.
            if n.opType == "Constant", n.domain.isEmpty || n.domain == "ai.onnx" {
                guard n.output.count == 1, let attr = n.attribute.first(where: { $0.name == "value" }), attr.hasT else {
                    throw ImportError.unsupported(file: file, node: name, reason: "Constant without a tensor 'value' attribute")
                }
                var t = attr.t
                t.name = n.output[0]
                initializers[n.output[0]] = try floatTensor(t, file: file)
                continue
            }
            nodes.append(Node(name: name, op: try op(of: n, name: name, file: file),
                              inputs: n.input, outputs: n.output))
        }
        return Graph(name: g.name, inputs: inputs, outputs: g.output.map(valueInfo), nodes: nodes, initializers: initializers)
    }

    static func valueInfo(_ v: Onnx_ValueInfoProto) -> ValueInfo {
        let dims = v.type.tensorType.shape.dim.map { d -> Int? in
            if case let .dimValue(n)? = d.value { return Int(n) }
            return nil
        }
        return ValueInfo(name: v.name, shape: dims)
    }

    static func op(of n: Onnx_NodeProto, name: String, file: String) throws -> Op {
        guard n.domain.isEmpty || n.domain == "ai.onnx" else {
            throw ImportError.unsupported(file: file, node: name, reason: "op '\(n.opType)' of domain '\(n.domain)' is not supported")
        }
        var attrs: [String: Onnx_AttributeProto] = [:]
        for a in n.attribute { attrs[a.name] = a }
        func int(_ key: String, _ fallback: Int) throws -> Int {
            guard let a = attrs[key] else { return fallback }
            guard a.type == .int || (a.type == .undefined && a.hasI) else {
                throw ImportError.unsupported(file: file, node: name, reason: "attribute '\(key)' must be an int")
            }
            return Int(a.i)
        }
        func float(_ key: String, _ fallback: Float) throws -> Float {
            guard let a = attrs[key] else { return fallback }
            guard a.type == .float || (a.type == .undefined && a.hasF) else {
                throw ImportError.unsupported(file: file, node: name, reason: "attribute '\(key)' must be a float")
            }
            guard a.f.isFinite else { throw ImportError.unsupported(file: file, node: name, reason: "attribute '\(key)' is \(a.f)") }
            return a.f
        }
        func bool(_ key: String) throws -> Bool {
            let v = try int(key, 0)
            guard v == 0 || v == 1 else { throw ImportError.unsupported(file: file, node: name, reason: "attribute '\(key)' must be 0 or 1, got \(v)") }
            return v == 1
        }
        switch n.opType {
        case "Gemm":
            return .gemm(alpha: try float("alpha", 1), beta: try float("beta", 1), transA: try bool("transA"), transB: try bool("transB"))
        case "MatMul": return .matMul
        case "Add": return .add
        case "Relu": return .relu
        case "Sigmoid": return .sigmoid
        case "Identity": return .identity
        case "Flatten": return .flatten(axis: try int("axis", 1))
        case "Softmax": return .softmax(axis: try int("axis", -1))
        default:
            throw ImportError.unsupported(file: file, node: name, reason: "op '\(n.opType)' is not supported (supported: Gemm, MatMul, Add, Relu, Sigmoid, Identity, Flatten, Softmax)")
        }
    }

    /// Converts an initializer of any numeric type to float, from raw bytes or typed fields.
    static func floatTensor(_ t: Onnx_TensorProto, file: String) throws -> FloatTensor {
        let name = t.name.isEmpty ? "<unnamed>" : t.name
        if t.dataLocation == .external || !t.externalData.isEmpty {
            throw ImportError.invalidTensor(file: file, tensor: name, reason: "stored as external data, which LUTForge does not read; save the model with all tensors inside the .onnx file")
        }
        guard t.dims.allSatisfy({ $0 >= 0 }) else {
            throw ImportError.invalidTensor(file: file, tensor: name, reason: "negative dimension in \(t.dims)")
        }
        let shape = t.dims.map { Int($0) }
        // Multiply with overflow checks: a hostile file can name absurd dimensions.
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= 1 << 31 else {
                throw ImportError.invalidTensor(file: file, tensor: name, reason: "too many elements (dims \(t.dims))")
            }
            count = p
        }
        let type = Onnx_TensorProto.DataType(rawValue: Int(t.dataType)) ?? .undefined
        let width: Int
        switch type {
        case .float, .int32, .uint32: width = 4
        case .double, .int64, .uint64: width = 8
        case .int8, .uint8, .bool: width = 1
        case .int16, .uint16, .float16: width = 2
        default:
            throw ImportError.invalidTensor(file: file, tensor: name, reason: "data type \(t.dataType) is not a supported numeric type")
        }
        var values: [Float]
        if t.hasRawData {
            let raw = t.rawData
            guard raw.count == count * width else {
                throw ImportError.invalidTensor(file: file, tensor: name, reason: "raw data has \(raw.count) bytes, shape \(shape) needs \(count * width)")
            }
            values = raw.withUnsafeBytes { buf in
                (0..<count).map { i in decodeLittleEndian(buf, at: i * width, type: type) }
            }
        } else {
            switch type {
            case .float: values = t.floatData
            case .double: values = t.doubleData.map { Float($0) }
            case .int64: values = t.int64Data.map { Float($0) }
            case .uint32, .uint64: values = t.uint64Data.map { Float($0) }
            case .float16: values = t.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
            default: values = t.int32Data.map { Float($0) }
            }
            guard values.count == count else {
                throw ImportError.invalidTensor(file: file, tensor: name, reason: "has \(values.count) values, shape \(shape) needs \(count)")
            }
        }
        if let bad = values.first(where: { !$0.isFinite }) {
            throw ImportError.invalidTensor(file: file, tensor: name, reason: "contains \(bad); weights must be finite")
        }
        return FloatTensor(shape: shape, data: values)
    }

    static func decodeLittleEndian(_ buf: UnsafeRawBufferPointer, at offset: Int, type: Onnx_TensorProto.DataType) -> Float {
        func load<T: FixedWidthInteger>(_: T.Type) -> T {
            T(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        switch type {
        case .float: return Float(bitPattern: load(UInt32.self))
        case .double: return Float(Double(bitPattern: load(UInt64.self)))
        case .float16: return Float(Float16(bitPattern: load(UInt16.self)))
        case .int8: return Float(load(Int8.self))
        case .uint8, .bool: return Float(load(UInt8.self))
        case .int16: return Float(load(Int16.self))
        case .uint16: return Float(load(UInt16.self))
        case .int32: return Float(load(Int32.self))
        case .uint32: return Float(load(UInt32.self))
        case .int64: return Float(load(Int64.self))
        case .uint64: return Float(load(UInt64.self))
        default: return .nan
        }
    }
}
