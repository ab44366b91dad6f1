// Reads an ONNX / QONNX model file into a ModelGraph.Graph, with typed attributes,
// float and exact integer initializers, and QONNX datatype annotations. QONNX ops
// are accepted in the domains Brevitas, QKeras/FINN and qonnx's cleanup use;
// anything else is a one-line error naming the node.
import Foundation
import ModelGraph
import SwiftProtobuf

/// Reader for ONNX (`.onnx`) model files.
public enum ONNXReader {
    /// Domains whose `Quant`, `BipolarQuant`, `Trunc` and `MultiThreshold` LUTForge reads as QONNX's.
    public static let qonnxDomains = ["qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas", "finn"]

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
        var opsets: [String: Int] = [:]
        for o in model.opsetImport { opsets[o.domain == "ai.onnx" ? "" : o.domain] = Int(o.version) }
        if opsets[""] == nil { opsets[""] = 13 }
        let graph = try convert(model.graph, file: file, opsets: opsets)
        do {
            try graph.verify()
        } catch let error as GraphError {
            throw ImportError.invalidGraph(file: file, reason: error.description)
        }
        return graph
    }

    static func convert(_ g: Onnx_GraphProto, file: String, opsets: [String: Int]) throws -> Graph {
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
                    throw ImportError.unsupported(file: file, node: name, reason: "Constant without a tensor 'value' attribute (value_float, value_ints … are not supported)")
                }
                var t = attr.t
                t.name = n.output[0]
                initializers[n.output[0]] = try floatTensor(t, file: file)
                continue
            }
            nodes.append(Node(name: name, op: try op(of: n, name: name, file: file, opset: opsets[""] ?? 13),
                              inputs: n.input, outputs: n.output))
        }
        var datatypes: [String: String] = [:]
        for a in g.quantizationAnnotation {
            for entry in a.quantParameterTensorNames where entry.key == "finn_datatype" { datatypes[a.tensorName] = entry.value }
        }
        return Graph(name: g.name, inputs: inputs, outputs: g.output.map(valueInfo), nodes: nodes, initializers: initializers,
                     datatypes: datatypes, opsets: opsets)
    }

    static func dtype(_ raw: Int32) -> DType? {
        switch Onnx_TensorProto.DataType(rawValue: Int(raw)) ?? .undefined {
        case .float: .float32
        case .double: .float64
        case .float16: .float16
        case .int8: .int8
        case .uint8: .uint8
        case .int16: .int16
        case .uint16: .uint16
        case .int32: .int32
        case .uint32: .uint32
        case .int64: .int64
        case .uint64: .uint64
        case .bool: .bool
        default: raw == 16 ? .bfloat16 : nil
        }
    }

    static func valueInfo(_ v: Onnx_ValueInfoProto) -> ValueInfo {
        let dims = v.type.tensorType.shape.dim.map { d -> Int? in
            if case let .dimValue(n)? = d.value { return Int(n) }
            return nil
        }
        return ValueInfo(name: v.name, shape: dims, dtype: dtype(v.type.tensorType.elemType) ?? .float32)
    }

    /// The typed op of node `n`: every attribute checked, unknown ones refused.
    static func op(of n: Onnx_NodeProto, name: String, file: String, opset: Int) throws -> Op {
        func fail(_ reason: String) -> ImportError { .unsupported(file: file, node: name, reason: reason) }
        let domain = n.domain == "ai.onnx" ? "" : n.domain
        let qonnx = qonnxDomains.contains(domain)
        guard domain.isEmpty || qonnx else {
            throw fail("op '\(n.opType)' of domain '\(n.domain)' is not supported (supported domains: the ONNX default, \(qonnxDomains.joined(separator: ", ")))")
        }
        var attrs: [String: Onnx_AttributeProto] = [:]
        for a in n.attribute { attrs[a.name] = a }
        var used: Set<String> = []
        func int(_ key: String, _ fallback: Int) throws -> Int {
            used.insert(key)
            guard let a = attrs[key] else { return fallback }
            guard a.type == .int || (a.type == .undefined && a.hasI) else { throw fail("attribute '\(key)' must be an int") }
            return Int(a.i)
        }
        func ints(_ key: String) throws -> [Int]? {
            used.insert(key)
            guard let a = attrs[key] else { return nil }
            guard a.type == .ints || (a.type == .undefined && !a.ints.isEmpty) else { throw fail("attribute '\(key)' must be a list of ints") }
            return a.ints.map { Int($0) }
        }
        func float(_ key: String, _ fallback: Float) throws -> Float {
            used.insert(key)
            guard let a = attrs[key] else { return fallback }
            guard a.type == .float || (a.type == .undefined && a.hasF) else { throw fail("attribute '\(key)' must be a float") }
            guard a.f.isFinite else { throw fail("attribute '\(key)' is \(a.f)") }
            return a.f
        }
        func string(_ key: String, _ fallback: String) throws -> String {
            used.insert(key)
            guard let a = attrs[key] else { return fallback }
            guard a.type == .string || (a.type == .undefined && a.hasS) else { throw fail("attribute '\(key)' must be a string") }
            return String(decoding: a.s, as: UTF8.self)
        }
        func bool(_ key: String, _ fallback: Bool = false) throws -> Bool {
            let v = try int(key, fallback ? 1 : 0)
            guard v == 0 || v == 1 else { throw fail("attribute '\(key)' must be 0 or 1, got \(v)") }
            return v == 1
        }
        func rounding(_ key: String, _ fallback: String) throws -> RoundingMode {
            let s = try string(key, fallback)
            guard let r = RoundingMode(qonnx: s) else {
                throw fail("rounding_mode '\(s)' is not supported (ROUND, HALF_EVEN, CEIL, FLOOR, UP, DOWN, HALF_UP, HALF_DOWN)")
            }
            return r
        }
        func conv() throws -> ConvAttributes {
            let autoPad = try string("auto_pad", "NOTSET")
            guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else { throw fail("auto_pad '\(autoPad)' is not supported") }
            return ConvAttributes(kernelShape: try ints("kernel_shape"), strides: try ints("strides"), pads: try ints("pads"),
                                  dilations: try ints("dilations"), group: try int("group", 1), autoPad: autoPad)
        }
        let result: Op
        switch (qonnx, n.opType) {
        case (true, "Quant"), (true, "IntQuant"):
            result = .quant(signed: try bool("signed", true), narrow: try bool("narrow"), rounding: try rounding("rounding_mode", "ROUND"))
        case (true, "BipolarQuant"): result = .bipolarQuant
        case (true, "Trunc"):
            guard n.input.count == 5 || n.input.count == 6 else { throw fail("Trunc takes 5 (version 1) or 6 (version 2) inputs, got \(n.input.count)") }
            result = .trunc(rounding: try rounding("rounding_mode", "FLOOR"), signed: try bool("signed", true), narrow: try bool("narrow"),
                            version: n.input.count == 5 ? 1 : 2)
        case (true, "MultiThreshold"):
            result = .multiThreshold(outDType: try string("out_dtype", ""), outScale: try float("out_scale", 1), outBias: try float("out_bias", 0),
                                     dataLayout: try string("data_layout", ""))
        case (true, _):
            throw fail("op '\(n.opType)' of domain '\(n.domain)' is not supported (QONNX ops: Quant, IntQuant, BipolarQuant, Trunc, MultiThreshold)")
        case (false, "Gemm"):
            result = .gemm(alpha: try float("alpha", 1), beta: try float("beta", 1), transA: try bool("transA"), transB: try bool("transB"))
        case (false, "MatMul"): result = .matMul
        case (false, "Add"): result = .add
        case (false, "Sub"): result = .sub
        case (false, "Mul"): result = .mul
        case (false, "Div"): result = .div
        case (false, "Relu"): result = .relu
        case (false, "Sigmoid"): result = .sigmoid
        case (false, "Clip"):
            if opset < 11 {
                result = .clip(min: try float("min", -.greatestFiniteMagnitude), max: try float("max", .greatestFiniteMagnitude))
            } else {
                result = .clip(min: nil, max: nil)
            }
        case (false, "Identity"), (false, "Dropout"):
            _ = try float("ratio", 0.5)
            _ = try int("seed", 0)
            if n.opType == "Dropout" && n.output.count > 1 && !n.output[1].isEmpty { throw fail("Dropout with a mask output is not supported") }
            result = .identity
        case (false, "Flatten"): result = .flatten(axis: try int("axis", 1))
        case (false, "Softmax"): result = .softmax(axis: try int("axis", opset < 13 ? 1 : -1))
        case (false, "Reshape"): result = .reshape(allowZero: try bool("allowzero"))
        case (false, "Transpose"): result = .transpose(perm: try ints("perm"))
        case (false, "Squeeze"): result = .squeeze(axes: try ints("axes"))
        case (false, "Unsqueeze"): result = .unsqueeze(axes: try ints("axes"))
        case (false, "Shape"):
            let end = attrs["end"] != nil ? try int("end", 0) : nil
            result = .shape(start: try int("start", 0), end: end)
        case (false, "Gather"): result = .gather(axis: try int("axis", 0))
        case (false, "Concat"): result = .concat(axis: try int("axis", 0))
        case (false, "Cast"):
            let to = try int("to", 1)
            _ = try int("saturate", 1)
            guard let t = dtype(Int32(to)) else { throw fail("Cast to data type \(to) is not supported") }
            result = .cast(to: t)
        case (false, "BatchNormalization"):
            _ = try float("momentum", 0.9)
            if try int("training_mode", 0) != 0 { throw fail("BatchNormalization in training mode is not supported") }
            if try int("spatial", 1) != 1 { throw fail("BatchNormalization with spatial=0 is not supported") }
            guard n.output.count == 1 || n.output.dropFirst().allSatisfy(\.isEmpty) else { throw fail("BatchNormalization with running-statistics outputs is not supported") }
            result = .batchNormalization(epsilon: try float("epsilon", 1e-5))
        case (false, "TopK"):
            result = .topK(axis: try int("axis", -1), largest: try bool("largest", true), sorted: try bool("sorted", true))
        case (false, "ArgMax"):
            result = .argMax(axis: try int("axis", 0), keepDims: try bool("keepdims", true), selectLastIndex: try bool("select_last_index"))
        case (false, "QuantizeLinear"):
            if attrs["output_dtype"] != nil { throw fail("QuantizeLinear with output_dtype is not supported (give the zero point's type instead)") }
            if attrs["block_size"] != nil { throw fail("blocked QuantizeLinear is not supported") }
            result = .quantizeLinear(axis: try int("axis", 1), saturate: try bool("saturate", true))
        case (false, "DequantizeLinear"):
            if attrs["block_size"] != nil { throw fail("blocked DequantizeLinear is not supported") }
            result = .dequantizeLinear(axis: try int("axis", 1))
        case (false, "QLinearMatMul"): result = .qLinearMatMul
        case (false, "MatMulInteger"): result = .matMulInteger
        case (false, "Conv"): result = .conv(try conv())
        case (false, "ConvInteger"): result = .convInteger(try conv())
        case (false, "QLinearConv"): result = .qLinearConv(try conv())
        case (false, "MaxPool"), (false, "AveragePool"):
            let autoPad = try string("auto_pad", "NOTSET")
            guard ["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"].contains(autoPad) else { throw fail("auto_pad '\(autoPad)' is not supported") }
            guard let k = try ints("kernel_shape") else { throw fail("\(n.opType) needs kernel_shape") }
            let a = PoolAttributes(kernelShape: k, strides: try ints("strides"), pads: try ints("pads"), dilations: try ints("dilations"),
                                   autoPad: autoPad, ceilMode: try bool("ceil_mode"))
            if n.opType == "MaxPool" {
                if try int("storage_order", 0) != 0 { throw fail("MaxPool with storage_order = 1 is not supported") }
                if n.output.count > 1 && !n.output[1].isEmpty { throw fail("MaxPool with an indices output is not supported") }
                result = .maxPool(a)
            } else {
                result = .averagePool(a, countIncludePad: try bool("count_include_pad"))
            }
        case (false, "GlobalAveragePool"): result = .globalAveragePool
        case (false, "GlobalMaxPool"): result = .globalMaxPool
        case (false, "Pad"):
            let mode = try string("mode", "constant")
            guard mode == "constant" else { throw fail("Pad mode '\(mode)' is not supported (constant only)") }
            if opset < 11 {
                result = .pad(pads: try ints("pads") ?? [], value: try float("value", 0))
            } else {
                result = .pad(pads: nil, value: nil)
            }
        default:
            throw fail("op '\(n.opType)' is not supported (see docs/ops.md for the supported ops)")
        }
        for key in attrs.keys.sorted() where !used.contains(key) {
            throw fail("\(n.opType) attribute '\(key)' is not supported")
        }
        return result
    }

    /// Converts an initializer of any numeric type, from raw bytes or typed fields; integers stay exact.
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
        guard let type = dtype(t.dataType), type != .bfloat16 else {
            throw ImportError.invalidTensor(file: file, tensor: name, reason: "data type \(t.dataType) is not a supported numeric type")
        }
        let width: Int = switch type {
        case .float32, .int32, .uint32: 4
        case .float64, .int64, .uint64: 8
        case .int8, .uint8, .bool: 1
        default: 2
        }
        if type.isInteger {
            var ints: [Int]
            if t.hasRawData {
                let raw = t.rawData
                guard raw.count == count * width else {
                    throw ImportError.invalidTensor(file: file, tensor: name, reason: "raw data has \(raw.count) bytes, shape \(shape) needs \(count * width)")
                }
                ints = raw.withUnsafeBytes { buf in (0..<count).map { decodeInteger(buf, at: $0 * width, type: type) } }
            } else {
                switch type {
                case .int64: ints = t.int64Data.map { Int($0) }
                case .uint32, .uint64: ints = t.uint64Data.map { Int(truncatingIfNeeded: $0) }
                default: ints = t.int32Data.map { Int($0) }
                }
                guard ints.count == count else {
                    throw ImportError.invalidTensor(file: file, tensor: name, reason: "has \(ints.count) values, shape \(shape) needs \(count)")
                }
            }
            if type == .uint64, ints.contains(where: { $0 < 0 }) {
                throw ImportError.invalidTensor(file: file, tensor: name, reason: "uint64 value beyond the int64 range")
            }
            return FloatTensor(shape: shape, ints: ints, dtype: type)
        }
        var values: [Float]
        if t.hasRawData {
            let raw = t.rawData
            guard raw.count == count * width else {
                throw ImportError.invalidTensor(file: file, tensor: name, reason: "raw data has \(raw.count) bytes, shape \(shape) needs \(count * width)")
            }
            values = raw.withUnsafeBytes { buf in
                (0..<count).map { i in decodeFloat(buf, at: i * width, type: type) }
            }
        } else {
            switch type {
            case .float32: values = t.floatData
            case .float64: values = t.doubleData.map { Float($0) }
            default: values = t.int32Data.map { Float(Float16(bitPattern: UInt16(truncatingIfNeeded: $0))) }
            }
            guard values.count == count else {
                throw ImportError.invalidTensor(file: file, tensor: name, reason: "has \(values.count) values, shape \(shape) needs \(count)")
            }
        }
        if let bad = values.first(where: { !$0.isFinite }) {
            throw ImportError.invalidTensor(file: file, tensor: name, reason: "contains \(bad); weights must be finite")
        }
        var tensor = FloatTensor(shape: shape, data: values)
        tensor.dtype = type
        return tensor
    }

    static func decodeFloat(_ buf: UnsafeRawBufferPointer, at offset: Int, type: DType) -> Float {
        switch type {
        case .float32: return Float(bitPattern: UInt32(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case .float64: return Float(Double(bitPattern: UInt64(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt64.self))))
        default: return Float(Float16(bitPattern: UInt16(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: UInt16.self))))
        }
    }

    static func decodeInteger(_ buf: UnsafeRawBufferPointer, at offset: Int, type: DType) -> Int {
        func load<T: FixedWidthInteger>(_: T.Type) -> T {
            T(littleEndian: buf.loadUnaligned(fromByteOffset: offset, as: T.self))
        }
        switch type {
        case .int8: return Int(load(Int8.self))
        case .uint8, .bool: return Int(load(UInt8.self))
        case .int16: return Int(load(Int16.self))
        case .uint16: return Int(load(UInt16.self))
        case .int32: return Int(load(Int32.self))
        case .uint32: return Int(load(UInt32.self))
        case .int64: return Int(load(Int64.self))
        default: return Int(truncatingIfNeeded: load(UInt64.self))
        }
    }
}
