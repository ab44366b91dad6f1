// ONNX and .npy readers: files written by the real onnx/numpy packages, our own
// writer's round trip, and every malformed-input error naming file, node and reason.
import Foundation
import LUTForgeTestSupport
import ModelGraph
@testable import ModelImport
import SwiftProtobuf
import Testing

let fixtures = Bundle.module.resourceURL!.appendingPathComponent("Fixtures").path

@Suite("ONNX reader")
struct ONNXReaderTests {
    @Test("reads the digits model exported by the onnx package (Gemm, transB=1)")
    func digitsGemm() throws {
        let g = try ONNXReader.read(path: "\(digitsExample)/digits.onnx")
        #expect(g.nodes.map(\.op.onnxName) == ["Gemm", "Relu", "Gemm", "Relu", "Gemm", "Softmax"])
        #expect(g.nodes[0].op == .gemm(alpha: 1, beta: 1, transA: false, transB: true))
        #expect(g.initializers["fc0.weight"]?.shape == [32, 64])
        #expect(g.inputs.map(\.name) == ["input"])
        #expect(g.inputs[0].shape == [1, 64])
    }

    @Test("reads the MatMul + Add export of the same network")
    func digitsMatMul() throws {
        let g = try ONNXReader.read(path: "\(fixtures)/digits_matmul.onnx")
        #expect(g.nodes.map(\.op.onnxName) == ["MatMul", "Add", "Relu", "MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"])
        let gemm = try ONNXReader.read(path: "\(digitsExample)/digits.onnx")
        // Same weights, transposed.
        let a = try #require(gemm.initializers["fc1.weight"]), b = try #require(g.initializers["fc1.weight_t"])
        #expect(a.shape == [16, 32] && b.shape == [32, 16])
        #expect(a.data[3 * 32 + 5] == b.data[5 * 16 + 3])
    }

    @Test("writer round trip with raw and typed tensor storage", arguments: [ONNXWriter.TensorStorage.raw, .typed])
    func roundTrip(storage: ONNXWriter.TensorStorage) throws {
        let graph = makeMLP(widths: [5, 4, 3], activations: [.sigmoid], style: .gemmScaled, softmax: true, seed: 9)
        let data = try ONNXWriter.serialize(graph, storage: storage)
        let back = try ONNXReader.read(data: data, file: "mem.onnx")
        #expect(back == graph)
    }

    @Test("truncated bytes are rejected with the file name")
    func truncated() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: "\(digitsExample)/digits.onnx"))
        var rejected = 0
        for cut in stride(from: 1, to: data.count, by: 97) {
            do {
                _ = try ONNXReader.read(data: data.prefix(cut), file: "cut.onnx")
            } catch let error as ImportError {
                #expect(error.description.hasPrefix("cut.onnx: "))
                rejected += 1
            }
        }
        // Every prefix must be rejected: either protobuf fails or the graph is incomplete.
        #expect(rejected == (1..<data.count).filter { ($0 - 1) % 97 == 0 }.count)
    }

    @Test("empty file, NaN weight and unknown op are clear errors")
    func errors() throws {
        #expect(throws: ImportError.self) { try ONNXReader.read(data: Data(), file: "e.onnx") }
        var g = makeMLP(widths: [3, 2], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        g.initializers["w0"]!.data[1] = .nan
        do {
            _ = try ONNXReader.read(data: try ONNXWriter.serialize(g), file: "nan.onnx")
            Issue.record("NaN weight accepted")
        } catch let e as ImportError {
            #expect(e.description.contains("nan.onnx") && e.description.contains("'w0'") && e.description.contains("nan"))
        }
    }

    @Test("a node reading an undefined value (or a cycle) names the node")
    func undefinedValue() throws {
        var g = makeMLP(widths: [3, 2, 2], activations: [.relu], style: .gemmTransB, softmax: false, seed: 1)
        g.nodes[0].inputs[0] = "a0"   // gemm0 reads the output of a later node: a cycle
        do {
            _ = try ONNXReader.read(data: try ONNXWriter.serialize(g), file: "cyc.onnx")
            Issue.record("cycle accepted")
        } catch let e as ImportError {
            #expect(e.description.contains("cyc.onnx") && e.description.contains("gemm0") && e.description.contains("a0"))
        }
    }
}

@Suite("NPY")
struct NPYTests {
    @Test("reads numpy-written float32 and int64 arrays")
    func numpyFiles() throws {
        let x = try NPY.read(path: "\(digitsExample)/X_test.npy")
        #expect(x.dtype == .float32)
        #expect(x.shape == [449, 64])
        #expect(x.values.allSatisfy { $0 >= 0 && $0 <= 1 })
        let y = try NPY.read(path: "\(digitsExample)/y_test.npy")
        #expect(y.dtype == .int64)
        #expect(y.shape == [449])
        #expect(Set(y.values.map { Int($0) }) == Set(0...9))
    }

    @Test("encode/decode round trip for every dtype", arguments: NPYArray.DType.allCases)
    func roundTrip(dtype: NPYArray.DType) throws {
        let values: [Double] = dtype == .bool ? [0, 1, 1, 0, 1, 0] : [0, 1, 2, 3, 100, dtype.isInteger && !["|u1", "<u2"].contains(dtype.rawValue) ? -7 : 7]
        let a = NPYArray(shape: [2, 3], dtype: dtype, values: values)
        #expect(try NPY.decode(NPY.encode(a), file: "a.npy") == a)
    }

    @Test("bad magic, short data and Fortran order are rejected")
    func bad() throws {
        #expect(throws: ImportError.self) { try NPY.decode(Data("hello".utf8), file: "x.npy") }
        var d = NPY.encode(NPYArray(shape: [4], dtype: .float32, values: [1, 2, 3, 4]))
        d.removeLast(3)
        #expect(throws: ImportError.self) { try NPY.decode(d, file: "x.npy") }
        let header = "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }"
        var f = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.utf8.count), 0])
        f.append(contentsOf: Array(header.utf8) + [0, 0, 0, 0])
        #expect(throws: ImportError.self) { try NPY.decode(f, file: "x.npy") }
    }
}

@Suite("ONNX reader, protobuf-level cases")
struct ONNXProtoTests {
    func model(_ edit: (inout Onnx_GraphProto) -> Void) throws -> Data {
        let graph = makeMLP(widths: [3, 2], activations: [], style: .gemmTransB, softmax: false, seed: 1)
        var m = try Onnx_ModelProto(serializedBytes: try ONNXWriter.serialize(graph))
        edit(&m.graph)
        return try m.serializedData()
    }

    @Test("oversized, wrong-type and short tensors: one line and exit 1 from lutforge compile, naming file and tensor",
          arguments: [("oversized", "too many elements"), ("string", "is not a supported numeric type"), ("short", "raw data has")])
    func badTensors(kind: String, message: String) throws {
        let data = try model { g in
            switch kind {
            case "oversized": g.initializer[0].dims = [1 << 20, 1 << 20]
            case "string": g.initializer[0].dataType = Int32(Onnx_TensorProto.DataType.string.rawValue)
            default: g.initializer[0].dims = [3, 200]
            }
        }
        let dir = temporaryDirectory()
        let path = "\(dir)/\(kind).onnx"
        try data.write(to: URL(fileURLWithPath: path))
        let name = try Onnx_ModelProto(serializedBytes: data).graph.initializer[0].name
        let r = try runCommand(lutforgeExecutable, ["compile", path, "-o", "\(dir)/design"])
        #expect(r.status == 1)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("error: \(path): tensor '\(name)'") && r.stderr.contains(message), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/design"))
    }

    @Test("initializers stored as external data are refused with the tensor's name")
    func externalData() throws {
        let data = try model { g in
            var entry = Onnx_StringStringEntryProto()
            entry.key = "location"
            entry.value = "weights.bin"
            g.initializer[1].externalData = [entry]
            g.initializer[1].dataLocation = .external
            g.initializer[1].clearRawData()
        }
        do {
            _ = try ONNXReader.read(data: data, file: "ext.onnx")
            Issue.record("external data accepted")
        } catch let e as ImportError {
            #expect(e.description.hasPrefix("ext.onnx: tensor '\(try Onnx_ModelProto(serializedBytes: data).graph.initializer[1].name)'"))
            #expect(e.description.contains("external data"))
        }
    }

    @Test("typed int64 and double initializers, and Constant nodes, become float tensors")
    func typedFields() throws {
        let data = try model { g in
            var w = g.initializer.first { $0.name == "w0" }!
            let values = (0..<6).map { Double($0) - 2.5 }
            w.clearRawData()
            w.dataType = Int32(Onnx_TensorProto.DataType.double.rawValue)
            w.doubleData = values
            g.initializer.removeAll { $0.name == "w0" }
            var constant = Onnx_NodeProto()
            constant.opType = "Constant"
            constant.output = ["w0"]
            var attr = Onnx_AttributeProto()
            attr.name = "value"
            attr.type = .tensor
            attr.t = w
            constant.attribute = [attr]
            g.node.insert(constant, at: 0)
            var b = g.initializer.first { $0.name == "b0" }!
            b.clearRawData()
            b.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
            b.int64Data = [4, -9]
            g.initializer.removeAll { $0.name == "b0" }
            g.initializer.append(b)
        }
        let g = try ONNXReader.read(data: data, file: "typed.onnx")
        #expect(g.initializers["w0"]?.data == [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5])
        #expect(g.initializers["b0"]?.data == [4, -9])
        #expect(g.nodes.count == 1)
    }

    @Test("a wrong attribute type names the node and the attribute")
    func badAttribute() throws {
        let data = try model { g in
            g.node[0].attribute.removeAll { $0.name == "transB" }
            var a = Onnx_AttributeProto()
            a.name = "transB"
            a.type = .int
            a.i = 2
            g.node[0].attribute.append(a)
        }
        #expect(throws: ImportError.unsupported(file: "a.onnx", node: "gemm0", reason: "attribute 'transB' must be 0 or 1, got 2")) {
            try ONNXReader.read(data: data, file: "a.onnx")
        }
    }

    /// One node reading `x` (and initializers `p0`, `p1`, … of the given values), its own opset imports.
    func node(_ op: String, domain: String = "", inputs: Int = 1, attributes: [Onnx_AttributeProto] = [],
              opsets: [(String, Int64)] = [("", 13)]) throws -> Data {
        var m = Onnx_ModelProto()
        m.irVersion = 8
        m.opsetImport = opsets.map { d, v in var o = Onnx_OperatorSetIdProto(); o.domain = d; o.version = v; return o }
        var x = Onnx_ValueInfoProto()
        x.name = "x"
        x.type.tensorType.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        x.type.tensorType.shape.dim = [Int64(1), 4].map { var d = Onnx_TensorShapeProto.Dimension(); d.dimValue = $0; return d }
        var y = x
        y.name = "y"
        m.graph.input = [x]
        m.graph.output = [y]
        var n = Onnx_NodeProto()
        n.name = "the_node"
        n.opType = op
        n.domain = domain
        n.input = ["x"] + (0..<(inputs - 1)).map { "p\($0)" }
        n.output = ["y"]
        n.attribute = attributes
        m.graph.node = [n]
        for i in 0..<(inputs - 1) {
            var t = Onnx_TensorProto()
            t.name = "p\(i)"
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            t.floatData = [i == 2 ? 8 : 0.5]
            m.graph.initializer.append(t)
        }
        return try m.serializedData()
    }

    func attribute(_ name: String, int: Int64? = nil, string: String? = nil) -> Onnx_AttributeProto {
        var a = Onnx_AttributeProto()
        a.name = name
        if let int { a.type = .int; a.i = int }
        if let string { a.type = .string; a.s = Data(string.utf8) }
        return a
    }

    @Test("QONNX Quant (and IntQuant) in every exporter's domain, with its attributes; Trunc by input count; MultiThreshold's attributes",
          arguments: ["qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas", "finn"])
    func qonnxDomains(domain: String) throws {
        for op in ["Quant", "IntQuant"] {
            let data = try node(op, domain: domain, inputs: 4, attributes: [attribute("signed", int: 0), attribute("narrow", int: 1),
                                                                            attribute("rounding_mode", string: "FLOOR")],
                                opsets: [("", 13), (domain, 1)])
            let g = try ONNXReader.read(data: data, file: "q.onnx")
            #expect(g.nodes[0].op == .quant(signed: false, narrow: true, rounding: .floor))
        }
        let defaults = try ONNXReader.read(data: try node("Quant", domain: domain, inputs: 4), file: "q.onnx")
        #expect(defaults.nodes[0].op == .quant(signed: true, narrow: false, rounding: .halfEven))
        let t1 = try ONNXReader.read(data: try node("Trunc", domain: domain, inputs: 5), file: "t.onnx")
        #expect(t1.nodes[0].op == .trunc(rounding: .floor, signed: true, narrow: false, version: 1))
        let t2 = try ONNXReader.read(data: try node("Trunc", domain: domain, inputs: 6, attributes: [attribute("rounding_mode", string: "ROUND")]), file: "t.onnx")
        #expect(t2.nodes[0].op == .trunc(rounding: .halfEven, signed: true, narrow: false, version: 2))
        let mt = try ONNXReader.read(data: try node("MultiThreshold", domain: domain, inputs: 2, attributes: [attribute("out_dtype", string: "UINT4")]), file: "m.onnx")
        #expect(mt.nodes[0].op == .multiThreshold(outDType: "UINT4", outScale: 1, outBias: 0, dataLayout: ""))
        #expect(try ONNXReader.read(data: try node("BipolarQuant", domain: domain, inputs: 2), file: "b.onnx").nodes[0].op == .bipolarQuant)
    }

    @Test("ONNX QDQ and integer ops parse with their defaults (convolutions too, lowered in a later issue)")
    func integerOps() throws {
        let q = try ONNXReader.read(data: try node("QuantizeLinear", inputs: 3, attributes: [attribute("axis", int: 0)]), file: "q.onnx")
        #expect(q.nodes[0].op == .quantizeLinear(axis: 0, saturate: true))
        #expect(try ONNXReader.read(data: try node("DequantizeLinear", inputs: 3), file: "d.onnx").nodes[0].op == .dequantizeLinear(axis: 1))
        #expect(try ONNXReader.read(data: try node("QLinearMatMul", inputs: 8), file: "m.onnx").nodes[0].op == .qLinearMatMul)
        #expect(try ONNXReader.read(data: try node("MatMulInteger", inputs: 4), file: "m.onnx").nodes[0].op == .matMulInteger)
        let conv = try ONNXReader.read(data: try node("QLinearConv", inputs: 8, attributes: [attribute("group", int: 2)]), file: "c.onnx")
        guard case let .qLinearConv(a) = conv.nodes[0].op else { Issue.record("not QLinearConv: \(conv.nodes[0].op)"); return }
        #expect(a.group == 2 && a.autoPad == "NOTSET")
        let ci = try ONNXReader.read(data: try node("ConvInteger", inputs: 4), file: "c.onnx")
        guard case .convInteger = ci.nodes[0].op else { Issue.record("not ConvInteger: \(ci.nodes[0].op)"); return }
    }

    @Test("an unknown domain, an unknown QONNX op, an unsupported attribute or attribute value: one error naming file, node and reason",
          arguments: [
            ("Quant", "com.example", [String: String](), "domain 'com.example' is not supported"),
            ("Dequant", "qonnx.custom_op.general", [:], "op 'Dequant' of domain 'qonnx.custom_op.general' is not supported"),
            ("Quant", "qonnx.custom_op.general", ["rounding_mode": "STOCHASTIC"], "rounding_mode 'STOCHASTIC' is not supported"),
            ("Quant", "onnx.brevitas", ["signed": "2"], "attribute 'signed' must be 0 or 1, got 2"),
            ("Quant", "onnx.brevitas", ["scale_factor": "1"], "Quant attribute 'scale_factor' is not supported"),
            ("QuantizeLinear", "", ["block_size": "4"], "blocked QuantizeLinear is not supported"),
            ("QuantizeLinear", "", ["output_dtype": "3"], "QuantizeLinear with output_dtype is not supported"),
            ("BatchNormalization", "", ["training_mode": "1"], "BatchNormalization in training mode is not supported"),
            ("Conv", "", ["auto_pad": "SAME_EVERYWHERE"], "auto_pad 'SAME_EVERYWHERE' is not supported"),
            ("Einsum", "", [:], "op 'Einsum' is not supported"),
          ])
    func refused(op: String, domain: String, attributes: [String: String], message: String) throws {
        let attrs = attributes.sorted { $0.key < $1.key }.map { k, v in Int64(v).map { attribute(k, int: $0) } ?? attribute(k, string: v) }
        let data = try node(op, domain: domain, inputs: 4, attributes: attrs)
        do {
            _ = try ONNXReader.read(data: data, file: "bad.onnx")
            Issue.record("accepted \(op) \(attributes)")
        } catch let e as ImportError {
            #expect(e.description.hasPrefix("bad.onnx: node 'the_node'") && e.description.contains(message), "\(e.description)")
            #expect(!e.description.contains("\n"))
        }
    }
}
