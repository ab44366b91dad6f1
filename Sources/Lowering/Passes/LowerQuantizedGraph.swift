// lower-quantized-graph: an already-quantized model (QONNX: Quant, BipolarQuant,
// Trunc, MultiThreshold; ONNX QDQ and integer ops) becomes HardwareIR exactly:
// quantized weights become integer weights (never re-quantized), quantized
// activations fix the stream types, and the float32 arithmetic between a layer's
// exact integer accumulator and the next quantizer is realized by an integer
// requantizer when one reproduces it on the whole accumulator range, else by
// thresholds, checked by enumeration (docs/numerics.md, "Quantized models").
import Foundation
import HardwareIR
import ModelGraph
import Quantize
import ReferenceEngine

/// A stream of the program being built, as the model's next node sees it.
struct QStream {
    /// Program value.
    var value: String
    /// Its type (shape `[n]`, quantization per element or per tensor).
    var type: TensorType
    /// Consumers see the integer itself (a QuantizeLinear output) instead of `fl((q − z)·s)`.
    var integerSeen: Bool = false

    var count: Int { type.count }
    /// Scales as float32, one or one per element.
    var scales: [Float] { (type.quant?.scales ?? [1]).map { Float($0) } }
    var zeroPoints: [Int] { type.quant?.zeroPoints ?? [0] }
}

/// An integer fully connected layer not yet emitted: its requantizer may still be fused into it.
struct LinearPlan {
    /// Kernel name (`fc0`).
    var name: String
    /// Model nodes covered.
    var nodes: [String]
    /// Integer weights `[out][in]` (zero points subtracted).
    var rows: [[Int]]
    /// Accumulator initial values (input zero points and integer biases folded in).
    var biases: [Int]
    /// The input stream.
    var input: QStream
    /// Real value of one accumulator step per output (`s_x · s_w`, exact in double).
    var accScale: [Double]
}

/// How a feature map's model elements sit in its stream (channels-last frames).
struct MapInfo: Equatable {
    /// `order[m]`: stream index of model element `m`.
    var order: [Int]
    /// Channels per position (the frame).
    var channels: Int
    /// The spatial positions, outermost first.
    var positions: [Int]

    /// `values` per model element (or one for all) as one per channel; nil if they vary across positions.
    func perChannel<T: Equatable>(_ values: [T]) -> [T]? {
        guard values.count > 1 else { return values }
        guard values.count == order.count else { return nil }
        var out: [T?] = [T?](repeating: nil, count: channels)
        for (m, s) in order.enumerated() {
            let c = s % channels
            if let v = out[c] { if v != values[m] { return nil } } else { out[c] = values[m] }
        }
        let flat = out.compactMap { $0 }
        return flat.count == channels ? flat : nil
    }
}

/// The arithmetic between integers and the next quantizer, collected op by op. For a feature
/// map (`map`) the elements of the epilogue are the channels of each position.
struct Pending {
    var linear: LinearPlan?
    /// The one or two streams the float value is formed from (empty for a linear plan).
    var sources: [QStream]
    var start: EpilogueStart
    var ops: [ScalarOp]
    var nodes: [String]
    var count: Int
    var map: MapInfo? = nil
}

/// An integer weight matrix with its real scale per output.
struct QuantizedMatrix {
    /// `[rows][cols]` integers `q − z`.
    var ints: [Int]
    var shape: [Int]
    /// Per element scale.
    var scales: [Float]
}

/// What a model value is during the walk.
enum QValue {
    case stream(QStream)
    case pending(Pending)
    case constant(FloatTensor)
    case quantizedConstant(QuantizedMatrix)
    /// The float graph input before any quantizer.
    case floatInput
}

/// Lowers a quantized model exactly.
public struct LowerQuantizedGraph: Pass {
    public static let name = "lower-quantized-graph"
    public static let summary = "honour every quantizer of a QONNX or QDQ model exactly: integer weights, requantizers or thresholds"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        do {
            var lowering = QuantizedLowering(state: state)
            try lowering.run()
            state = lowering.state
        } catch is NeedsChannelsLastInput {
            var lowering = QuantizedLowering(state: state, channelsLastInput: true)
            try lowering.run()
            state = lowering.state
        }
    }
}

struct QuantizedLowering {
    var state: LoweringState
    var builder = ProgramBuilder()
    var values: [String: QValue] = [:]
    var inputQuantizer: InputQuantizer?
    var meaning: OutputMeaning = .values
    /// Program input vectors for the calibration set (LUT layers learn their codebooks on them).
    var calibrationInputs: [[Int]] = []
    /// Stream orders of values streamed in another order than the model's (feature maps), as for float models.
    var orders: [String: [Int]] = [:]
    /// Pads folded into the window op that reads them, by the Pad's output.
    var foldedPads: [String: WindowLowering.FoldedPad] = [:]
    /// Stream the (host-quantized) input channels-last.
    var channelsLastInput = false

    init(state: LoweringState, channelsLastInput: Bool = false) {
        self.state = state
        self.channelsLastInput = channelsLastInput
    }

    var graph: Graph { state.graph }
    func fail(_ node: String, _ reason: String) -> LoweringError { state.unsupported(node, reason) }

    // MARK: walk

    mutating func run() throws {
        try setUpInput()
        for node in graph.nodes { try visit(node) }
        let outName = graph.outputs[0].name
        var fact = state.resolve(outName)
        fact.order = WindowLowering.compose(fact.order, over: orders[fact.source])
        let outShape = state.shapes[outName] ?? []
        let channelsLastOut = outShape.count >= 3 && fact.order == WindowLowering.channelsLast(outShape)
        guard fact.order == nil || channelsLastOut else {
            throw fail(outName, "the graph output is a transposed view of a stream; LUTForge streams outputs in model order")
        }
        let out: QStream
        switch values[fact.source] {
        case let .stream(s)?: out = s
        case let .pending(p)?: out = try rawOutput(p, at: outName)
        default: throw fail(outName, "the graph output is not computed from the input")
        }
        var program = builder.program(name: graph.name.isEmpty ? "model" : graph.name, sourceFile: URL(fileURLWithPath: state.file).lastPathComponent,
                                      output: out.value, meaning: meaning, calibration: state.options.calibrationSource,
                                      inputQuantizer: inputQuantizer)
        if program.nodes.isEmpty { throw fail(outName, "the model computes nothing LUTForge can put in hardware") }
        program.sourceValues[out.value] = outName
        program.layouts[out.value] = channelsLastOut ? .channelsLast(channels: outShape[1]) : nil
        state.program = program
    }

    /// The value `name` as the walk knows it, looking through layout facts; the order is composed with the
    /// source's stream order. Reordering is allowed with `permitOrder`, or for a feature map streamed in frames.
    func lookup(_ name: String, at node: Node, permitOrder: Bool = false) throws -> (QValue, LayoutFact) {
        if let c = graph.initializers[name] { return (.constant(c), LayoutFact(source: name, shape: c.shape, order: nil)) }
        var fact = state.resolve(name)
        guard let v = values[fact.source] else { throw fail(node.name, "input '\(name)' is not available (produced by an unsupported construct)") }
        fact.order = WindowLowering.compose(fact.order, over: orders[fact.source])
        if fact.order != nil && !permitOrder && !isMap(v) {
            throw fail(node.name, "input '\(name)' is a transposed view; only a MatMul or Gemm can read a transposed stream")
        }
        return (v, fact)
    }

    /// Whether `v` is a feature map streamed in frames.
    func isMap(_ v: QValue) -> Bool {
        switch v {
        case let .stream(s): return s.type.framesPerInference > 1
        case let .pending(p): return p.map != nil
        default: return false
        }
    }

    /// The map info of stream `s` seen as model value `name` through `fact`.
    func mapInfo(_ s: QStream, _ fact: LayoutFact, name: String) -> MapInfo? {
        guard s.type.framesPerInference > 1 else { return nil }
        let count = s.count
        return MapInfo(order: fact.order ?? Array(0..<count), channels: s.type.frameSize, positions: Array(s.type.shape.dropLast()))
    }

    /// Per-element constants of `p`'s value as the epilogue indexes them: per channel of a map.
    func forPending(_ v: [Float], _ p: Pending, at node: Node) throws -> [Float] {
        guard let m = p.map, v.count > 1 else { return v }
        guard let c = m.perChannel(v) else { throw fail(node.name, "a constant that varies across the positions of a feature map is not supported") }
        return Set(c).count == 1 ? [c[0]] : c
    }

    /// The type of a stream of `p`'s shape with `element` and `quant`.
    func streamType(_ p: Pending, _ element: ElementType, quant: Quantization?) -> TensorType {
        guard let m = p.map else { return .vector(element, p.count, quant: quant) }
        return .map(element, positions: m.positions, channels: p.count, quant: quant)
    }

    // MARK: input

    mutating func setUpInput() throws {
        let info = graph.inputs[0]
        let shape = state.shapes[info.name] ?? []
        let count = shape.reduce(1, *)
        let users = graph.consumers(of: info.name)
        if let dt = graph.datatypes[info.name], dt != "FLOAT32" {
            guard let e = Self.element(finn: dt) else { throw fail("input '\(info.name)'", "datatype annotation '\(dt)' is not supported") }
            let t = inputType(e, quant: .scale(1), model: info.name)
            builder.setInput(t, model: info.name)
            values[info.name] = .stream(QStream(value: builder.input, type: t))
            calibrationInputs = state.options.calibration.map { $0.map { v in
                e.kind == .bipolar ? (v >= 0 ? 1 : -1) : Swift.min(Swift.max(Int(v.rounded(.toNearestOrEven)), e.min), e.max)
            } }
            if let l = builder.layouts[builder.input] { calibrationInputs = calibrationInputs.map(l.toStream) }
            state.notes.append("input '\(info.name)': \(dt) integers, passed as they are")
            return
        }
        // The model's own input quantizer becomes the host's.
        if users.count == 1, let q = users.first, q.inputs[0] == info.name {
            switch q.op {
            case let .quant(signed, narrow, rounding):
                let (s, z, bits) = try quantParameters(q)
                guard s.count == 1, z.count == 1 else { throw fail(q.name, "a per-channel input quantizer is not supported") }
                guard z[0].rounded() == z[0] else { throw fail(q.name, "zero point \(z[0]) is not an integer") }
                let element = ClosingQuantizer.quant(scale: s, zeroPoint: z, bits: bits, signed: signed, narrow: narrow, rounding: rounding).element
                let lo = bits == 1 && signed ? -1 : QuantArith.minInt(signed: signed, narrow: narrow, bits: bits)
                let hi = bits == 1 && signed ? 1 : QuantArith.maxInt(signed: signed, narrow: narrow, bits: bits)
                inputQuantizer = InputQuantizer(scale: s[0], zeroPoint: Int(z[0]), lo: lo, hi: hi, rounding: rounding.rawValue, order: .addClampRound,
                                                bipolar: bits == 1 && signed, source: "Quant node '\(q.name)'")
                declareQuantizedInput(element, scale: s[0], zeroPoint: Int(z[0]), count: count, at: q)
                return
            case .bipolarQuant:
                guard let s = graph.initializers[q.inputs[1]], s.count == 1 else { throw fail(q.name, "a per-channel input quantizer is not supported") }
                inputQuantizer = InputQuantizer(scale: s.data[0], zeroPoint: 0, lo: -1, hi: 1, order: .addClampRound, bipolar: true,
                                                source: "BipolarQuant node '\(q.name)'")
                declareQuantizedInput(.bipolar, scale: s.data[0], zeroPoint: 0, count: count, at: q)
                return
            case .quantizeLinear:
                guard let s = graph.initializers[q.inputs[1]], s.count == 1 else { throw fail(q.name, "a per-axis input QuantizeLinear is not supported") }
                let z = q.inputs.count > 2 ? graph.initializers[q.inputs[2]] : nil
                let dtype = z?.dtype ?? .uint8
                guard let range = dtype.integerRange, [.int8, .uint8, .int16, .uint16].contains(dtype) else {
                    throw fail(q.name, "QuantizeLinear to \(dtype.rawValue) is not supported")
                }
                let zp = z?.integerValues?.first ?? 0
                inputQuantizer = InputQuantizer(scale: s.data[0], zeroPoint: zp, lo: range.lowerBound, hi: range.upperBound, order: .roundAddClamp,
                                                source: "QuantizeLinear node '\(q.name)'")
                let e: ElementType = range.lowerBound < 0 ? .int(dtype == .int8 ? 8 : 16) : .uint(dtype == .uint8 ? 8 : 16)
                declareQuantizedInput(e, scale: s.data[0], zeroPoint: zp, count: count, at: q, integerSeen: true)
                return
            default: break
            }
        }
        // A float input read by layers directly: LUTForge's own power-of-two input quantizer.
        let range = state.ranges[info.name] ?? ObservedRange(min: -1, max: 1)
        let bits = state.options.inputBits
        let signed = range.min < 0
        let qmax = Double(signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1)
        let scale = Float(pow(2, ceil(log2(max(range.maxAbs, 1e-30) / qmax))))
        let e: ElementType = signed ? .int(bits) : .uint(bits)
        inputQuantizer = InputQuantizer(scale: scale, zeroPoint: 0, lo: e.min, hi: e.max, order: .roundAddClamp,
                                        source: "LUTForge: \(e) at the power-of-two scale \(fmt(Double(scale))) covering the calibration range")
        let t = inputType(e, quant: .scale(Double(scale)), model: info.name)
        builder.setInput(t, model: info.name)
        values[info.name] = .stream(QStream(value: builder.input, type: t))
        calibrationInputs = state.options.calibration.map { row in row.map { hostQuantize($0, inputQuantizer!) } }
        if let l = builder.layouts[builder.input] { calibrationInputs = calibrationInputs.map(l.toStream) }
        state.notes.append("input '\(info.name)' is float: quantized on the host to \(e) at scale 2^\(Int(log2(Double(scale)))) (--input-bits \(bits)); inputs on that grid are exact")
    }

    /// The input stream's type: a vector, or a map when a window op reads it (channels-last, on the host
    /// or already in the model's order).
    mutating func inputType(_ e: ElementType, quant: Quantization, model: String) -> TensorType {
        let shape = state.shapes[model] ?? []
        let count = max(shape.reduce(1, *), 1)
        if channelsLastInput, shape.count >= 3 {
            orders[model] = WindowLowering.channelsLast(shape)
            builder.layouts[builder.input] = .channelsLast(channels: shape[1])
            return WindowLowering.mapType(e, modelShape: shape, quant: quant)
        }
        if let view = WindowLowering.channelsLastView(of: model, in: graph, state: state) {
            return WindowLowering.mapType(e, modelShape: view, quant: quant)
        }
        return .vector(e, count, quant: quant)
    }

    mutating func declareQuantizedInput(_ e: ElementType, scale: Float, zeroPoint: Int, count: Int, at q: Node, integerSeen: Bool = false) {
        let t = inputType(e, quant: .scale(Double(scale), zeroPoint: zeroPoint), model: q.outputs[0])
        builder.setInput(t, model: q.outputs[0])
        values[q.outputs[0]] = .stream(QStream(value: builder.input, type: t, integerSeen: integerSeen))
        values[q.inputs[0]] = .floatInput
        calibrationInputs = state.options.calibration.map { row in row.map { hostQuantize($0, inputQuantizer!) } }
        if let l = builder.layouts[builder.input] { calibrationInputs = calibrationInputs.map(l.toStream) }
        state.notes.append("input quantizer: \(inputQuantizer!.source) runs on the host; the design takes \(e) integers")
    }

    /// The host side of `q`: a float input to its integer (the same float32 steps as the model).
    func hostQuantize(_ x: Float, _ q: InputQuantizer) -> Int { q.quantize(x) }

    static func element(finn dt: String) -> ElementType? {
        if dt == "BIPOLAR" { return .bipolar }
        if dt == "BINARY" { return .uint(1) }
        if dt.hasPrefix("UINT"), let b = Int(dt.dropFirst(4)), (1...32).contains(b) { return .uint(b) }
        if dt.hasPrefix("INT"), let b = Int(dt.dropFirst(3)), (2...32).contains(b) { return .int(b) }
        return nil
    }

    // MARK: constants

    /// Scale, zero point (per element of the scale tensor) and bit width of a Quant node.
    func quantParameters(_ q: Node) throws -> (scale: [Float], zeroPoint: [Float], bits: Int) {
        guard let s = graph.initializers[q.inputs[1]], let z = graph.initializers[q.inputs[2]], let b = graph.initializers[q.inputs[3]] else {
            throw fail(q.name, "scale, zero point and bit width must be constants")
        }
        guard b.count == 1, let bits = b.integerValues?.first, (1...16).contains(bits) else {
            throw fail(q.name, "bit width must be one integer in 1...16, got \(b.data)")
        }
        guard s.data.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw fail(q.name, "scale must be positive and finite") }
        return (s.data, z.data, bits)
    }

    /// `t` broadcast to `shape`, one entry per element (or one entry when all are equal).
    func expand(_ t: FloatTensor, to shape: [Int], at node: Node) throws -> [Float] {
        guard FloatInterpreter.broadcastShape(shape, t.shape) == shape else {
            throw fail(node.name, "constant of shape \(t.shape) does not broadcast to \(shape)")
        }
        if Set(t.data).count <= 1 { return [t.data.first ?? 0] }
        return FloatInterpreter.broadcastIndices(t.shape, to: shape).map { t.data[$0] }
    }

    /// Per-element constants of a BatchNormalization on a value of `shape` (channel axis 1).
    func batchNorm(_ node: Node, shape: [Int], epsilon: Float) throws -> ScalarOp {
        let p = try (1...4).map { i -> FloatTensor in
            guard let t = graph.initializers[node.inputs[i]] else { throw fail(node.name, "BatchNormalization parameters must be constants") }
            return t
        }
        guard shape.count >= 2 else { throw fail(node.name, "BatchNormalization needs a channel axis") }
        let c = shape[1], inner = shape[2...].reduce(1, *), n = shape.reduce(1, *)
        guard p.allSatisfy({ $0.count == c }) else { throw fail(node.name, "BatchNormalization parameters do not have \(c) channels") }
        let coeff = (0..<c).map { QuantArith.batchNormCoefficients(gamma: p[0].data[$0], beta: p[1].data[$0], mean: p[2].data[$0], variance: p[3].data[$0], epsilon: epsilon) }
        let scale = (0..<n).map { coeff[($0 / inner) % c].scale }, bias = (0..<n).map { coeff[($0 / inner) % c].bias }
        return .affine(scale: Set(scale).count == 1 ? [scale[0]] : scale, bias: Set(bias).count == 1 ? [bias[0]] : bias)
    }

    /// A quantized constant from a quantizer applied to an initializer.
    func quantizedConstant(_ node: Node) throws -> QuantizedMatrix? {
        guard let w = graph.initializers[node.inputs[0]] else { return nil }
        switch node.op {
        case let .quant(signed, narrow, rounding):
            let (s, z, bits) = try quantParameters(node)
            let st = FloatTensor(shape: graph.initializers[node.inputs[1]]!.shape, data: s)
            let zt = FloatTensor(shape: graph.initializers[node.inputs[2]]!.shape, data: z)
            let se = try expandFull(st, to: w.shape, at: node), ze = try expandFull(zt, to: w.shape, at: node)
            guard ze.allSatisfy({ $0.rounded() == $0 }) else { throw fail(node.name, "zero point is not an integer") }
            let ints = w.data.indices.map { i -> Int in
                let q = QuantArith.quantInteger(w.data[i], scale: se[i], zeroPoint: ze[i], bits: bits, signed: signed, narrow: narrow, rounding: rounding)
                return Int(q) - Int(ze[i])
            }
            return QuantizedMatrix(ints: ints, shape: w.shape, scales: se)
        case .bipolarQuant:
            let st = graph.initializers[node.inputs[1]]!
            return QuantizedMatrix(ints: w.data.map { $0 >= 0 ? 1 : -1 }, shape: w.shape, scales: try expandFull(st, to: w.shape, at: node))
        case let .dequantizeLinear(axis):
            guard let q = w.integerValues, let s = graph.initializers[node.inputs[1]] else { return nil }
            let z = node.inputs.count > 2 ? graph.initializers[node.inputs[2]]?.integerValues ?? [0] : [0]
            let a = axis < 0 ? axis + w.rank : axis
            let st = FloatInterpreter.strides(w.shape)
            func ch(_ i: Int) -> Int { s.count == 1 ? 0 : (i / st[a]) % w.shape[a] }
            return QuantizedMatrix(ints: q.indices.map { q[$0] - (z.count == 1 ? z[0] : z[ch($0)]) }, shape: w.shape,
                                   scales: q.indices.map { s.data[ch($0)] })
        default: return nil
        }
    }

    func expandFull(_ t: FloatTensor, to shape: [Int], at node: Node) throws -> [Float] {
        guard FloatInterpreter.broadcastShape(shape, t.shape) == shape else {
            throw fail(node.name, "parameter of shape \(t.shape) does not broadcast to \(shape)")
        }
        return FloatInterpreter.broadcastIndices(t.shape, to: shape).map { t.data[$0] }
    }

    /// The weights read by a linear op at input `index` as `[out][in]` integers and a scale per output.
    func weights(_ node: Node, _ index: Int, transposed: Bool) throws -> (rows: [[Int]], scales: [Float]) {
        let name = node.inputs[index]
        let m: QuantizedMatrix
        if let q = values[name], case let .quantizedConstant(qm) = q {
            m = qm
        } else if let c = graph.initializers[name], let ints = c.integerValues {
            m = QuantizedMatrix(ints: ints, shape: c.shape, scales: [Float](repeating: 1, count: ints.count))
        } else if graph.initializers[name] != nil {
            throw fail(node.name, "the weights are float, not quantized (add a Quant or DequantizeLinear on them, or compile the float model)")
        } else {
            throw fail(node.name, "input \(index) must be a constant (LUTForge compiles fixed weights)")
        }
        guard m.shape.count == 2 else { throw fail(node.name, "the weight must be 2-D, got shape \(m.shape)") }
        // `transposed`: stored [out, in]; else [in, out].
        let (nIn, nOut) = transposed ? (m.shape[1], m.shape[0]) : (m.shape[0], m.shape[1])
        var rows = [[Int]](repeating: [Int](repeating: 0, count: nIn), count: nOut)
        var scales = [Float](repeating: 0, count: nOut)
        for o in 0..<nOut {
            for k in 0..<nIn {
                let at = transposed ? o * nIn + k : k * nOut + o
                rows[o][k] = m.ints[at]
                if k == 0 { scales[o] = m.scales[at] } else if m.scales[at] != scales[o] {
                    throw fail(node.name, "the weight scale varies along the input dimension; only one scale per output channel is supported")
                }
            }
        }
        return (rows, scales)
    }

    // MARK: nodes

    mutating func visit(_ node: Node) throws {
        let out = node.outputs[0]
        switch node.op {
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze, .transpose:
            if graph.initializers[node.inputs[0]] == nil { return }   // a layout fact
            throw fail(node.name, "\(node.op.onnxName) of a constant should have been folded")
        case .quant, .bipolarQuant, .dequantizeLinear:
            if values[node.outputs[0]] != nil { return }   // the host's input quantizer
            if let qc = try quantizedConstant(node) { values[out] = .quantizedConstant(qc); return }
            if case .dequantizeLinear = node.op {
                let (v, _) = try lookup(node.inputs[0], at: node)
                guard case var .stream(s) = v, s.integerSeen else { throw fail(node.name, "DequantizeLinear must read a QuantizeLinear output or a constant") }
                let sc = graph.initializers[node.inputs[1]]?.data ?? []
                let zp = node.inputs.count > 2 ? graph.initializers[node.inputs[2]]?.integerValues ?? [] : [0]
                guard Set(sc).count == 1, Set(zp).count == 1, s.type.quant?.isPerTensor == true,
                      Double(sc[0]) == s.type.quant?.scales[0], zp[0] == s.type.quant?.zeroPoints[0] else {
                    throw fail(node.name, "DequantizeLinear must use the (per-tensor) scale and zero point of the QuantizeLinear it reads")
                }
                s.integerSeen = false
                values[out] = .stream(s)
                return
            }
            try close(node)
        case .trunc, .multiThreshold, .quantizeLinear:
            if values[node.outputs[0]] != nil { return }   // the host's input quantizer
            try close(node)
        case .matMul, .gemm, .qLinearMatMul, .matMulInteger:
            try linear(node)
        case .add, .sub, .mul, .div:
            try arithmetic(node)
        case .relu:
            values[out] = .pending(try pending(node.inputs[0], at: node).appending(.relu, node.name))
        case let .clip(lo, hi):
            let l = lo ?? (node.inputs.count > 1 && !node.inputs[1].isEmpty ? graph.initializers[node.inputs[1]]?.data.first : -.greatestFiniteMagnitude)
            let h = hi ?? (node.inputs.count > 2 && !node.inputs[2].isEmpty ? graph.initializers[node.inputs[2]]?.data.first : .greatestFiniteMagnitude)
            guard let l, let h else { throw fail(node.name, "Clip bounds must be constants") }
            values[out] = .pending(try pending(node.inputs[0], at: node).appending(.clip(l, h), node.name))
        case let .batchNormalization(eps):
            let shape = state.shapes[node.inputs[0]] ?? []
            let base = try pending(node.inputs[0], at: node)
            guard case let .affine(s, b) = try batchNorm(node, shape: shape, epsilon: eps) else { return }
            values[out] = .pending(base.appending(.affine(scale: try forPending(s, base, at: node), bias: try forPending(b, base, at: node)), node.name))
        case let .cast(to):
            let (v, _) = try lookup(node.inputs[0], at: node)
            guard !to.isInteger else { throw fail(node.name, "Cast to \(to.rawValue) is not supported inside the datapath") }
            values[out] = v
        case let .softmax(axis):
            guard graph.outputs.contains(where: { $0.name == out }), axis == -1 || axis == (state.shapes[node.inputs[0]]?.count ?? 2) - 1 else {
                throw fail(node.name, "Softmax is supported only as the last node, over the last axis")
            }
            values[out] = try lookup(node.inputs[0], at: node).0
            meaning = .logits(softmaxNode: node.name)
            state.notes.append("final Softmax '\(node.name)' dropped: the design outputs argmax-preserving logits; apply softmax on the host if probabilities are needed")
        case let .topK(_, largest, _):
            guard largest, graph.initializers[node.inputs[1]]?.integerValues == [1] else { throw fail(node.name, "only TopK with k = 1 and largest = 1 is supported") }
            if node.outputs.count > 1, graph.nodes.contains(where: { $0.inputs.contains(node.outputs[0]) }) || graph.outputs.contains(where: { $0.name == node.outputs[0] }) {
                throw fail(node.name, "TopK's values output is used; only its indices are supported")
            }
            try argmax(node, output: node.outputs.count > 1 ? node.outputs[1] : node.outputs[0])
        case let .argMax(_, _, last):
            guard !last else { throw fail(node.name, "ArgMax with select_last_index = 1 is not supported") }
            try argmax(node, output: out)
        case .concat:
            try concat(node)
        case .sigmoid:
            throw fail(node.name, "Sigmoid in a quantized model is not supported yet (quantize before and after it, and LUTForge will need a table kernel)")
        case .shape, .gather:
            throw fail(node.name, "\(node.op.onnxName) of a non-constant tensor is not supported")
        case .conv, .convInteger, .qLinearConv:
            try convolution(node)
        case .maxPool, .averagePool, .globalAveragePool, .globalMaxPool:
            try pool(node)
        case .pad:
            try foldPad(node)
        }
    }

    /// The value at `name` as a pending epilogue (a stream becomes the start of one).
    func pending(_ name: String, at node: Node) throws -> Pending {
        let (v, fact) = try lookup(name, at: node)
        switch v {
        case let .pending(p): return p
        case let .stream(s):
            guard !s.integerSeen else { throw fail(node.name, "reads a QuantizeLinear output without DequantizeLinear") }
            let map = mapInfo(s, fact, name: name)
            return Pending(linear: nil, sources: [s], start: .stream(scale: s.scales, zeroPoint: s.zeroPoints), ops: [], nodes: [],
                           count: map?.channels ?? s.count, map: map)
        case .floatInput: throw fail(node.name, "reads the float model input directly; quantize it first")
        case .constant, .quantizedConstant: throw fail(node.name, "computes on constants only (should have been folded)")
        }
    }

    mutating func arithmetic(_ node: Node) throws {
        let out = node.outputs[0]
        let a = try lookup(node.inputs[0], at: node).0, b = try lookup(node.inputs[1], at: node).0
        let shape = state.shapes[out] ?? []
        // A quantized constant (a Quant'd bias) enters float arithmetic as its float32 value (q − z)·s.
        func constant(_ v: QValue) -> FloatTensor? {
            switch v {
            case let .constant(c): return c
            case let .quantizedConstant(q): return FloatTensor(shape: q.shape, data: zip(q.ints, q.scales).map { Float($0) * $1 })
            default: return nil
            }
        }
        if let c = constant(b) ?? constant(a) {
            let x = constant(b) != nil ? node.inputs[0] : node.inputs[1]
            let base = try pending(x, at: node)
            let cv = try forPending(try expand(c, to: shape, at: node), base, at: node)
            let first = constant(b) != nil
            let op: ScalarOp
            switch node.op {
            case .add: op = .add(cv)
            case .mul: op = .mul(cv)
            case .sub: op = first ? .sub(cv) : .rsub(cv)
            default:
                guard first else { throw fail(node.name, "division of a constant by a stream is not supported") }
                op = .div(cv)
            }
            values[out] = .pending(base.appending(op, node.name))
            return
        }
        // Two streams: a join, as float32 adds the two dequantized values (Sub negates the second).
        switch node.op {
        case .add: try join(node, negateSecond: false)
        case .sub: try join(node, negateSecond: true)
        default: throw fail(node.name, "\(node.op.onnxName) of two streams is not supported (Add and Sub are)")
        }
    }

    mutating func join(_ node: Node, negateSecond: Bool) throws {
        var streams: [QStream] = []
        var maps: [MapInfo?] = []
        for name in node.inputs {
            let (v, fact) = try lookup(name, at: node)
            switch v {
            case let .stream(s) where !s.integerSeen:
                streams.append(s)
                maps.append(mapInfo(s, fact, name: name))
            case .pending:
                throw fail(node.name, "\(node.op.onnxName) of a value that is not quantized: put a quantizer (Quant, QuantizeLinear) on each branch before the join")
            default: throw fail(node.name, "\(node.op.onnxName) inputs must be quantized streams")
            }
        }
        guard streams[0].count == streams[1].count, maps[0] == maps[1] else {
            throw fail(node.name, "\(node.op.onnxName) of streams of different sizes or layouts (broadcasting is not supported)")
        }
        let sb = streams[1].scales.map { negateSecond ? -$0 : $0 }
        values[node.outputs[0]] = .pending(Pending(linear: nil, sources: streams, start: .sum(scaleA: streams[0].scales, zeroA: streams[0].zeroPoints,
                                                                                              scaleB: sb, zeroB: streams[1].zeroPoints),
                                                   ops: [], nodes: [node.name], count: maps[0]?.channels ?? streams[0].count, map: maps[0]))
    }

    mutating func linear(_ node: Node) throws {
        let xName = node.inputs[0]
        let (xv, fact) = try lookup(xName, at: node, permitOrder: true)
        guard case let .stream(x) = xv else {
            if case .floatInput = xv { throw fail(node.name, "reads the float model input directly; LUTForge quantizes it with its own input quantizer only when no Quant or QuantizeLinear is present") }
            throw fail(node.name, "the activation is not quantized (put a Quant, MultiThreshold or QuantizeLinear before this \(node.op.onnxName))")
        }
        var rows: [[Int]]
        var wScales: [Float]
        var biases: [Int]
        var start: EpilogueStart
        var ops: [ScalarOp] = []
        var closing: ClosingQuantizer?
        var aZero = x.zeroPoints
        switch node.op {
        case .matMul:
            guard !x.integerSeen else { throw fail(node.name, "MatMul of a QuantizeLinear output needs a DequantizeLinear first") }
            (rows, wScales) = try weights(node, 1, transposed: false)
            biases = [Int](repeating: 0, count: rows.count)
            start = .accumulator(scale: [])
        case let .gemm(alpha, beta, transA, transB):
            guard !transA else { throw fail(node.name, "Gemm with transA=1 on the activation is not supported") }
            guard !x.integerSeen else { throw fail(node.name, "Gemm of a QuantizeLinear output needs a DequantizeLinear first") }
            (rows, wScales) = try weights(node, 1, transposed: transB)
            wScales = wScales.map { $0 * alpha }
            biases = [Int](repeating: 0, count: rows.count)
            start = .accumulator(scale: [])
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                if let v = values[node.inputs[2]], case let .quantizedConstant(qb) = v {
                    // A quantized bias on the accumulator grid is added exactly; otherwise as a float.
                    let real = zip(qb.ints, qb.scales).map { Float($0) * $1 }
                    ops.append(.add(try expand(FloatTensor(shape: qb.shape, data: real.map { $0 * beta }), to: state.shapes[node.outputs[0]] ?? [], at: node)))
                } else if let c = graph.initializers[node.inputs[2]] {
                    ops.append(.add(try expand(FloatTensor(shape: c.shape, data: c.data.map { $0 * beta }), to: state.shapes[node.outputs[0]] ?? [], at: node)))
                } else {
                    throw fail(node.name, "the bias C must be a constant")
                }
            }
        case .qLinearMatMul:
            guard x.integerSeen else { throw fail(node.name, "QLinearMatMul must read a QuantizeLinear output") }
            guard let sa = graph.initializers[node.inputs[1]], let sy = graph.initializers[node.inputs[6]], let zy = graph.initializers[node.inputs[7]],
                  let zyv = zy.integerValues, let range = zy.dtype.integerRange else {
                throw fail(node.name, "scales and zero points must be constants")
            }
            let b = graph.initializers[node.inputs[3]]
            guard let bi = b?.integerValues, b?.rank == 2, let sb = graph.initializers[node.inputs[4]],
                  let zb = graph.initializers[node.inputs[5]]?.integerValues else { throw fail(node.name, "B must be a constant integer matrix") }
            let (k, n) = (b!.shape[0], b!.shape[1])
            rows = (0..<n).map { o in (0..<k).map { bi[$0 * n + o] - (zb.count == 1 ? zb[0] : zb[o]) } }
            wScales = (0..<n).map { sb.count == 1 ? sb.data[0] : sb.data[$0] }
            aZero = [graph.initializers[node.inputs[2]]?.integerValues?.first ?? 0]
            biases = [Int](repeating: 0, count: n)
            start = .integerValue
            let m = wScales.map { sa.data[0] * $0 / sy.data[0] }
            closing = .requantizeORT(multiplier: Set(m).count == 1 ? [m[0]] : m, zeroPoint: [zyv[0]], range: range)
        case .matMulInteger:
            guard x.integerSeen else { throw fail(node.name, "MatMulInteger must read a QuantizeLinear output") }
            guard let b = graph.initializers[node.inputs[1]], let bi = b.integerValues, b.rank == 2 else { throw fail(node.name, "B must be a constant integer matrix") }
            let zb = node.inputs.count > 3 ? graph.initializers[node.inputs[3]]?.integerValues ?? [0] : [0]
            let (k, n) = (b.shape[0], b.shape[1])
            rows = (0..<n).map { o in (0..<k).map { bi[$0 * n + o] - (zb.count == 1 ? zb[0] : zb[o]) } }
            wScales = [Float](repeating: 1, count: n)
            aZero = [node.inputs.count > 2 ? graph.initializers[node.inputs[2]]?.integerValues?.first ?? 0 : 0]
            biases = [Int](repeating: 0, count: n)
            start = .integerValue
        default: fatalError("not a linear op")
        }
        let nIn = rows.first?.count ?? 0
        guard nIn > 0, !rows.isEmpty else { throw fail(node.name, "empty weight matrix") }
        guard nIn == x.count else { throw fail(node.name, "weight expects \(nIn) inputs but receives \(x.count) (shape \(fact.shape))") }
        // A transposed view of the input permutes the weight columns instead.
        if let order = fact.order {
            rows = rows.map { row in
                var r = [Int](repeating: 0, count: nIn)
                for (logical, streamIndex) in order.enumerated() { r[streamIndex] = row[logical] }
                return r
            }
        }
        // Input zero points: Σ w·(q − z) = Σ w·q − z·Σ w.
        for o in rows.indices {
            let z = aZero.count == 1 ? aZero[0] : 0
            if aZero.count > 1 {
                biases[o] -= zip(rows[o], aZero).reduce(0) { $0 + $1.0 * $1.1 }
            } else {
                biases[o] -= z * rows[o].reduce(0, +)
            }
        }
        if case .accumulator = start {
            let sx = x.scales
            guard sx.count == 1 else { throw fail(node.name, "a per-channel input scale cannot be folded into the weights") }
            let acc = wScales.map { Double(sx[0]) * Double($0) }
            start = .accumulator(scale: Set(acc).count == 1 ? [acc[0]] : acc)
        }
        var accScale: [Double] = []
        if case let .accumulator(s) = start { accScale = s.count == 1 ? [Double](repeating: s[0], count: rows.count) : s } else { accScale = wScales.map { Double($0) } }
        let name = builder.fresh("fc")
        let plan = LinearPlan(name: name, nodes: [node.name], rows: rows, biases: biases, input: x, accScale: accScale)
        let p = Pending(linear: plan, sources: [], start: start, ops: ops, nodes: [node.name], count: rows.count)
        if let closing {
            values[node.outputs[0]] = .stream(try realize(p, closing, quant: qlinearQuant(node), integerSeen: true, at: node))
        } else {
            values[node.outputs[0]] = .pending(p)
        }
    }

    func qlinearQuant(_ node: Node) -> Quantization {
        let sy = graph.initializers[node.inputs[6]]!.data[0], zy = graph.initializers[node.inputs[7]]!.integerValues![0]
        return .scale(Double(sy), zeroPoint: zy)
    }

    /// Closes the pending input of quantizer `node`.
    mutating func close(_ node: Node) throws {
        let out = node.outputs[0]
        let p = try pending(node.inputs[0], at: node)
        let shape = state.shapes[out] ?? []
        let quantizer: ClosingQuantizer
        let quant: Quantization
        var integerSeen = false
        switch node.op {
        case let .quant(signed, narrow, rounding):
            let (s, z, bits) = try quantParameters(node)
            let se = try forPending(try expand(FloatTensor(shape: graph.initializers[node.inputs[1]]!.shape, data: s), to: shape, at: node), p, at: node)
            let ze = try forPending(try expand(FloatTensor(shape: graph.initializers[node.inputs[2]]!.shape, data: z), to: shape, at: node), p, at: node)
            guard ze.allSatisfy({ $0.rounded() == $0 }) else { throw fail(node.name, "zero point is not an integer") }
            quantizer = .quant(scale: se, zeroPoint: ze, bits: bits, signed: signed, narrow: narrow, rounding: rounding)
            quant = Quantization(scales: se.map(Double.init), zeroPoints: ze.map { bits == 1 && signed ? 0 : Int($0) })
        case .bipolarQuant:
            guard let s = graph.initializers[node.inputs[1]] else { throw fail(node.name, "scale must be a constant") }
            quantizer = .bipolar
            quant = Quantization(scales: try forPending(try expand(s, to: shape, at: node), p, at: node).map(Double.init))
        case let .multiThreshold(_, outScale, outBias, layout):
            guard let t = graph.initializers[node.inputs[1]], t.rank == 2 else { throw fail(node.name, "thresholds must be a constant [channels, steps] tensor") }
            let offset = outBias / outScale
            guard outScale != 0, offset.rounded() == offset else {
                throw fail(node.name, "out_bias / out_scale = \(offset) is not an integer; the levels have no integer form")
            }
            let channelAxis = try FloatInterpreter.multiThresholdChannelAxis(rank: shape.count, layout: layout, node)
            let steps = t.shape[1], c = shape.isEmpty ? 1 : shape[channelAxis]
            let st = FloatInterpreter.strides(shape)
            let n = shape.reduce(1, *)
            var rows: [Float] = []
            let perElement = t.shape[0] != 1
            if perElement {
                guard t.shape[0] == c else { throw fail(node.name, "\(t.shape[0]) threshold rows for \(c) channels") }
                let channelOf = (0..<n).map { ($0 / st[channelAxis]) % c }
                // A map's epilogue elements are its stream channels: the model channel of any element in each.
                let perStreamChannel = p.map.flatMap { $0.perChannel(channelOf) } ?? channelOf
                guard p.map == nil || perStreamChannel.count == p.count else { throw fail(node.name, "the thresholds' channel axis is not the map's") }
                for ch in perStreamChannel { rows += t.data[(ch * steps)..<((ch + 1) * steps)] }
            } else {
                rows = t.data
            }
            quantizer = .multiThreshold(thresholds: rows, steps: steps, perElement: perElement, offset: Int(offset))
            quant = .scale(Double(outScale))
        case let .quantizeLinear(axis, _):
            guard let s = graph.initializers[node.inputs[1]] else { throw fail(node.name, "scale must be a constant") }
            let z = node.inputs.count > 2 ? graph.initializers[node.inputs[2]] : nil
            let dtype = z?.dtype ?? .uint8
            guard let range = dtype.integerRange, [.int8, .uint8, .int16, .uint16].contains(dtype) else { throw fail(node.name, "QuantizeLinear to \(dtype.rawValue) is not supported") }
            // Per-axis parameters along `axis` of the value.
            let a = axis < 0 ? axis + shape.count : axis
            let stt = FloatInterpreter.strides(shape)
            let n = shape.reduce(1, *)
            let se = try forPending(s.count == 1 ? [s.data[0]] : (0..<n).map { s.data[($0 / stt[a]) % shape[a]] }, p, at: node)
            let zv = z?.integerValues ?? [0]
            let zeAll = zv.count == 1 ? [zv[0]] : (0..<n).map { zv[($0 / stt[a]) % shape[a]] }
            guard let ze = p.map.map({ $0.perChannel(zeAll) }) ?? zeAll else { throw fail(node.name, "zero points vary across the positions of a feature map") }
            quantizer = .quantizeLinear(scale: se, zeroPoint: ze, range: range)
            quant = Quantization(scales: se.map(Double.init), zeroPoints: ze)
            integerSeen = true
        case let .trunc(rounding, signed, narrow, version):
            guard let s = graph.initializers[node.inputs[1]], let z = graph.initializers[node.inputs[2]], let ib = graph.initializers[node.inputs[3]] else {
                throw fail(node.name, "Trunc parameters must be constants")
            }
            let os = version == 2 ? graph.initializers[node.inputs[4]] : nil
            guard let ob = graph.initializers[node.inputs[version == 2 ? 5 : 4]], ob.count == 1, ib.count == 1 else { throw fail(node.name, "Trunc bit widths must be scalar constants") }
            let se = try forPending(try expand(s, to: shape, at: node), p, at: node), ze = try forPending(try expand(z, to: shape, at: node), p, at: node)
            let ose = try os.map { try forPending(try expand($0, to: shape, at: node), p, at: node) }
            // Version 1 has no `signed` attribute and does not clamp: its integers are signed
            // exactly when its input's are (a stream's element type; an accumulator is signed).
            let truncSigned = version == 2 ? signed : (p.linear != nil || !p.ops.isEmpty || p.sources.contains { $0.type.element.min < 0 })
            quantizer = .trunc(scale: se, zeroPoint: ze, inputBits: ib.data[0], outputBits: ob.data[0], outputScale: ose, signed: truncSigned,
                               narrow: version == 2 && narrow, rounding: rounding)
            if let ose {
                let ts = zip(ose, se).map { Float(pow(2, Double(Float(log2(Double($0 / $1))).rounded(.toNearestOrEven)))) }
                let zo = zip(ze.count == 1 ? [Float](repeating: ze[0], count: ts.count) : ze, ts).map { $0 / $1 }
                guard zo.allSatisfy({ $0.rounded() == $0 }) else { throw fail(node.name, "the output zero point is not an integer") }
                quant = Quantization(scales: ose.map(Double.init), zeroPoints: zo.map { Int($0) })
            } else {
                guard ze.allSatisfy({ $0.rounded() == $0 }) else { throw fail(node.name, "zero point is not an integer") }
                quant = Quantization(scales: se.map(Double.init), zeroPoints: ze.map { Int($0) })
            }
        default: fatalError("not a quantizer")
        }
        var full = p
        full.nodes.append(node.name)
        let stream = try realize(full, quantizer, quant: quant, integerSeen: integerSeen, at: node)
        values[out] = .stream(stream)
        noteMap(out, stream.value, full.map)
    }

    /// Records the stream order of model value `model` (a map streamed in frames) and its layout for the host.
    mutating func noteMap(_ model: String, _ value: String, _ map: MapInfo?) {
        guard let m = map else { return }
        if m.order != Array(0..<m.order.count) { orders[model] = m.order }
        if let shape = state.shapes[model], shape.count >= 3, m.order == WindowLowering.channelsLast(shape) {
            builder.layouts[value] = .channelsLast(channels: shape[1])
        }
    }

    // MARK: realization

    /// Emits the kernels that turn `p`'s integers into the quantizer's integers exactly.
    mutating func realize(_ p: Pending, _ q: ClosingQuantizer, quant: Quantization, integerSeen: Bool, at node: Node) throws -> QStream {
        let epi = Epilogue(start: p.start, ops: p.ops, quantizer: q, nodes: p.nodes)
        let outType = streamType(p, q.element, quant: quant)
        if let plan = p.linear {
            let options = state.options.options(name: plan.name, nodes: plan.nodes)
            if options.kind == .lut { return try realizeLUT(plan, epi, outType, options: options, at: node, integerSeen: integerSeen) }
            return try realizeDSP(plan, epi, outType, options: options, at: node, integerSeen: integerSeen)
        }
        if p.sources.count == 2 { return try realizeJoin(p, epi, outType, at: node, integerSeen: integerSeen) }
        let s = p.sources[0]
        let domain = (0..<p.count).map { _ in (s.type.element.min, s.type.element.max) }
        let out = try realizeUnary(source: s.value, sourceType: s.type, domains: domain, epi, outType, at: node, model: node.outputs[0])
        return QStream(value: out, type: outType, integerSeen: integerSeen)
    }

    /// The steps of `epi` on each element's domain (one computation when the function is uniform);
    /// with `negate`, of `x ↦ epi(−x)` on the mirrored domain. `elements` names the elements (default 0, 1, …).
    func steps(_ epi: Epilogue, domains: [(Int, Int)], negate: [Bool]? = nil, elements: [Int]? = nil, at node: Node) throws -> [StepFunction] {
        var cache: [String: StepFunction] = [:]
        let fs = domains.enumerated().map { j, d in
            let i = elements?[j] ?? j
            let neg = negate?[j] ?? false
            let key = epi.isUniform ? "\(d.0):\(d.1):\(neg)" : "\(i):\(neg)"
            if let f = cache[key] { return f }
            let f = neg ? StepFunction.find(lo: -d.1, hi: -d.0) { epi.value((-$0, 0), i) } : StepFunction.find(lo: d.0, hi: d.1) { epi.value(($0, 0), i) }
            cache[key] = f
            return f
        }
        for f in fs { try withinRange(epi, min(f.first, f.last), max(f.first, f.last), at: node) }
        return fs
    }

    /// A quantizer that does not clamp (QONNX `Trunc` version 1) must see only inputs whose results fit its output width.
    func withinRange(_ epi: Epilogue, _ lo: Int, _ hi: Int, at node: Node) throws {
        let r = epi.quantizer.range
        guard !epi.quantizer.clamps, lo < r.lowerBound || hi > r.upperBound else { return }
        throw LoweringError.inexact(file: state.file, node: node.name, reason: "its results reach \(lo)...\(hi), beyond the \(epi.quantizer.element) output, and Trunc version 1 does not clamp: its input exceeds input_bit_width")
    }

    /// Checks `realized(x, i) == epi(x, i)` for every `x` of every element's domain, within the budget.
    func enumerate(_ epi: Epilogue, domains: [(Int, Int)], at node: Node, _ realized: (Int, Int) -> Int) throws -> Bool {
        let total = domains.reduce(0) { $0 + $1.1 - $1.0 + 1 }
        guard total <= EpilogueSolver.enumerationBudget else { return false }
        var cache: Set<String> = []
        for (i, d) in domains.enumerated() {
            if epi.isUniform && !cache.insert("\(d.0):\(d.1)").inserted { continue }
            for x in d.0...d.1 {
                let want = epi.value((x, 0), i), got = realized(x, i)
                guard want == got else {
                    throw LoweringError.internalError(file: state.file, pass: LowerQuantizedGraph.name,
                                                      reason: "node '\(node.name)': the realization gives \(got) for \(x) at element \(i), the model \(want)")
                }
            }
        }
        return true
    }

    func note(_ node: Node, _ what: String, checked: Bool, domains: [(Int, Int)]) -> String {
        let total = domains.reduce(0) { $0 + $1.1 - $1.0 + 1 }
        return "\(node.name): \(what); equal to the model's float32 arithmetic " + (checked
            ? "on all \(total) accumulator values (enumerated)"
            : "at every step of its \(total)-value range (monotone; beyond the enumeration budget)")
    }

    mutating func realizeDSP(_ plan: LinearPlan, _ epi: Epilogue, _ outType: TensorType, options: LayerOptions, at node: Node, integerSeen: Bool) throws -> QStream {
        let ctx = LayerContext(file: state.file, node: plan.nodes[0], inputType: plan.input.type)
        let ranges = DSPLowering.accumulatorRanges(plan.rows, biases: plan.biases, x: plan.input.type.element, options: options.dsp)
        let domains = ranges.map { ($0.lo, $0.hi) }
        let plain = try steps(epi, domains: domains, at: node)
        // The kernel saturates to its output element's range (narrow types included).
        let outRange = outType.element.min...outType.element.max
        // A requantizer fused into the chain: descending channels get their weights negated.
        if outType.element.kind != .bipolar {
            let negate = plain.map { !$0.ascending }
            let fs = negate.contains(true) ? try steps(epi, domains: domains, negate: negate, at: node) : plain
            if let (requantizers, halfEven) = EpilogueSolver.requantizers(for: fs, out: outRange) {
                var rows = plan.rows, biases = plan.biases
                for i in rows.indices where negate[i] {
                    rows[i] = rows[i].map { -$0 }
                    biases[i] = -biases[i]
                }
                let spec = OutputSpec(requantizers: requantizers, requantized: outType.storage, table: nil, quant: outType.quant, halfEven: halfEven,
                                      narrow: outType.element.narrow)
                let kernel = try DSPLowering.build(ctx, rows: rows, biases: biases, output: spec, lanes: options.lanes, options: options.dsp)
                let checked = try enumerate(epi, domains: domains, at: node) { x, i in
                    requantizers[i].apply(negate[i] ? -x : x, lo: outType.element.min, hi: outType.element.max, halfEven: halfEven)
                }
                state.notes.append(note(node, "\(plan.name) requantizes in the DSP chain (\(halfEven ? "half-even, " : "")max M \(requantizers.map(\.multiplier).max() ?? 0), shifts \(Set(requantizers.map(\.shift)).sorted().map(String.init).joined(separator: "/")))", checked: checked, domains: domains))
                let v = builder.add(plan.name, sourceNodes: epi.nodes, kernel: kernel, inputs: [plan.input.value], model: node.outputs[0])
                return QStream(value: v, type: outType, integerSeen: integerSeen)
            }
        }
        // Thresholds after the raw accumulator.
        let raw = try rawLinear(plan, options: options, ctx: ctx)
        let out = try thresholds(source: raw.value, sourceType: raw.type, domains: domains, fs: plain, epi, outType, at: node, model: node.outputs[0])
        return QStream(value: out, type: outType, integerSeen: integerSeen)
    }

    /// The linear plan as a DSP chain that outputs its exact accumulator.
    mutating func rawLinear(_ plan: LinearPlan, options: LayerOptions, ctx: LayerContext) throws -> QStream {
        let ranges = DSPLowering.accumulatorRanges(plan.rows, biases: plan.biases, x: plan.input.type.element, options: options.dsp)
        let lo = ranges.map(\.lo).min() ?? 0, hi = ranges.map(\.hi).max() ?? 0
        guard let accType = Arith.signedType(lo, hi) else { throw ctx.unprovable("accumulator range \(lo)...\(hi) needs more than 62 bits") }
        let spec = OutputSpec(requantizers: plan.rows.map { _ in Requantizer(multiplier: 1, shift: 0, offset: 0) }, requantized: accType, table: nil,
                              quant: Quantization(scales: plan.accScale))
        let kernel = try DSPLowering.build(ctx, rows: plan.rows, biases: plan.biases, output: spec, lanes: options.lanes, options: options.dsp)
        let v = builder.add(plan.name, sourceNodes: plan.nodes, kernel: kernel, inputs: [plan.input.value], model: nil)
        return QStream(value: v, type: kernel.outputType)
    }

    mutating func realizeLUT(_ plan: LinearPlan, _ epi: Epilogue, _ outType: TensorType, options: LayerOptions, at node: Node, integerSeen: Bool) throws -> QStream {
        guard case .accumulator = epi.start else { throw fail(node.name, "LUT-linear layers need a float epilogue (not QLinearMatMul)") }
        let x = plan.input
        let ctx = LayerContext(file: state.file, node: plan.nodes[0], inputType: x.type)
        // The real weights and bias the tables approximate, in units of the input scale.
        let sx = Double(x.scales.first ?? 1)
        let layer = FloatLayer(name: plan.name, weight: plan.rows.enumerated().map { n, row in row.map { Float(Double($0) * plan.accScale[n] / sx) } },
                               bias: plan.biases.enumerated().map { n, b in Float(Double(b) * plan.accScale[n]) })
        let calibration = WindowLowering.frames(try builder.evaluate(x.value, on: calibrationInputs), size: plan.rows.first?.count ?? 1)
        let (kernel, notes, units) = try LUTLowering.lower(ctx, layer: layer, output: .raw, options: options.lut, calibration: calibration,
                                                          seed: state.options.seed &+ UInt64(builder.nodes.count) << 32)
        state.notes += notes
        let v = builder.add(plan.name, sourceNodes: plan.nodes, kernel: kernel, inputs: [x.value], model: nil)
        var lutEpi = epi
        lutEpi.start = .accumulator(scale: Set(units).count == 1 ? [units[0]] : units)
        let domains = (0..<kernel.outputCount).map { kernel.accumulatorRange($0) }
        state.notes.append("\(plan.name): LUT-linear approximates the model's layer; the quantizer after it is exact on the LUT accumulator")
        let out = try realizeUnary(source: v, sourceType: kernel.outputType, domains: domains, lutEpi, outType, at: node, model: node.outputs[0])
        return QStream(value: out, type: outType, integerSeen: integerSeen)
    }

    /// One input: an elementwise requantizer when one is exact, else thresholds.
    mutating func realizeUnary(source: String, sourceType: TensorType, domains: [(Int, Int)], _ epi: Epilogue, _ outType: TensorType,
                               at node: Node, model: String) throws -> String {
        let fs = try steps(epi, domains: domains, at: node)
        // The kernel saturates to its output element's range (narrow types included).
        let outRange = outType.element.min...outType.element.max
        if outType.element.kind != .bipolar {
            let ascending = try fs.enumerated().map { i, f in f.ascending ? f : try steps(epi, domains: [domains[i]], negate: [true], elements: [i], at: node)[0] }
            if let (rs, halfEven) = EpilogueSolver.requantizers(for: ascending, out: outRange) {
                let ms = zip(rs, fs).map { r, f in f.ascending ? r.multiplier : -r.multiplier }, cs = rs.map(\.offset), ss = rs.map(\.shift)
                let uniform = Set(ms).count == 1 && Set(cs).count == 1 && Set(ss).count == 1
                let ch = uniform ? 1 : ms.count
                let (m, c, s) = uniform ? ([ms[0]], [cs[0]], [ss[0]]) : (ms, cs, ss)
                let kernel = try elementwise(inputs: [sourceType], outType: outType, channels: ch, multipliers: m, offsets: c, shifts: s,
                                             halfEven: halfEven, at: node)
                let checked = try enumerate(epi, domains: domains, at: node) { x, i in kernel.apply([x], channel: i % ch) }
                state.notes.append(note(node, "elementwise requantizer", checked: checked, domains: domains))
                return builder.add(builder.fresh("ew"), sourceNodes: epi.nodes, kernel: kernel, inputs: [source], model: model)
            }
        }
        return try thresholds(source: source, sourceType: sourceType, domains: domains, fs: fs, epi, outType, at: node, model: model)
    }

    mutating func thresholds(source: String, sourceType: TensorType, domains: [(Int, Int)], fs: [StepFunction], _ epi: Epilogue,
                             _ outType: TensorType, at node: Node, model: String) throws -> String {
        let outRange = epi.quantizer.range
        let bipolar = outType.element.kind == .bipolar
        let levels = bipolar ? 1 : outRange.upperBound - outRange.lowerBound
        guard levels <= 4096 else {
            // Say by how much the nearest requantizer misses.
            let ascending = try fs.enumerated().map { i, f in f.ascending ? f : try steps(epi, domains: [domains[i]], negate: [true], elements: [i], at: node)[0] }
            let misses = ascending.compactMap { EpilogueSolver.nearestMiss(for: $0, out: outRange) }
            let miss = misses.max { $0.wrong < $1.wrong }.map {
                "; the nearest (M \($0.requantizer.multiplier), S \($0.requantizer.shift)) is wrong on \($0.wrong) of \($0.total) inputs, by up to \($0.worst) level(s)"
            } ?? ""
            throw LoweringError.inexact(file: state.file, node: node.name, reason: "no integer requantizer within \(EpilogueSolver.maxMultiplierBits) bits reproduces the quantizer\(miss), and \(levels + 1) output levels are too many for thresholds")
        }
        let x = sourceType.element
        let uniform = epi.isUniform && Set(domains.map { "\($0.0):\($0.1)" }).count == 1
        let channels = uniform ? 1 : fs.count
        var table: [Int] = [], descending: [Bool] = []
        for i in 0..<channels {
            let f = fs[i]
            let (always, never) = f.ascending ? (x.min, x.max + 1) : (x.max, x.min - 1)
            if bipolar {
                // One threshold: the step from −1 to +1.
                let base = f.ascending ? f.first : f.last
                table.append(base >= 1 ? always : (f.steps.last ?? never))
            } else {
                table += EpilogueSolver.thresholds(for: f, out: outRange, always: always, never: never)
            }
            descending.append(!f.ascending)
        }
        let tType = Arith.signedType(min(table.min() ?? 0, x.min - 1), max(table.max() ?? 0, x.max + 1), minimum: x.storage.bits + 1)!
        let kernel = ThresholdKernel(inputType: sourceType, outputType: outType, channels: channels, thresholdCount: levels, thresholdType: tType,
                                     thresholds: table, descending: descending, base: bipolar ? -1 : outRange.lowerBound, step: bipolar ? 2 : 1)
        // The kernel's own rule (ThresholdKernel.level) on its own tables, without copying the kernel per value.
        let (rows, down, first, unit) = (kernel.thresholds, kernel.descending, kernel.base, kernel.step)
        let checked = try enumerate(epi, domains: domains, at: node) { v, i in
            let c = i % channels
            return first + unit * ThresholdKernel.level(v, row: rows, from: c * levels, count: levels, descending: down[c])
        }
        state.notes.append(note(node, "thresholds (\(levels) per channel)", checked: checked, domains: domains))
        return builder.add(builder.fresh("th"), sourceNodes: epi.nodes, kernel: kernel, inputs: [source], model: model)
    }

    func elementwise(inputs: [TensorType], outType: TensorType, channels: Int, multipliers: [Int], offsets: [Int], shifts: [Int],
                     halfEven: Bool = false, at node: Node) throws -> ElementwiseKernel {
        let mType = Arith.signedType(multipliers.min() ?? 0, multipliers.max() ?? 0)!
        let cType = Arith.signedType(offsets.min() ?? 0, offsets.max() ?? 0)!
        let sType = IntType.unsignedFitting(max(shifts.max() ?? 0, 1))!
        var lo = 0, hi = 0
        for c in 0..<channels {
            // The products alone, their sum, and the sum with the offset must all fit.
            var l = min(offsets[c], 0), h = max(offsets[c], 0)
            for (p, t) in inputs.enumerated() {
                let m = multipliers[p * channels + c], a = t.element.min * m, b = t.element.max * m
                l += min(a, b, 0)
                h += max(a, b, 0)
            }
            lo = min(lo, l)
            hi = max(hi, h)
        }
        guard let fit = IntType.signedFitting(lo, hi) else { throw state.unsupported(node.name, "elementwise sum needs more than 62 bits") }
        let scaled = IntType.int(max(fit.bits, outType.storage.bits + 1, mType.bits + inputs.map(\.storage.bits).max()! + 1, cType.bits))
        return ElementwiseKernel(inputTypes: inputs, outputType: outType, channels: channels, multipliers: multipliers, offsets: offsets, shifts: shifts,
                                 multiplier: mType, offset: cType, shift: sType, scaled: scaled, halfEven: halfEven)
    }

    mutating func realizeJoin(_ p: Pending, _ epi: Epilogue, _ outType: TensorType, at node: Node, integerSeen: Bool) throws -> QStream {
        let a = p.sources[0], b = p.sources[1]
        let (ea, eb) = (a.type.element, b.type.element)
        let pairs = (ea.max - ea.min + 1) * (eb.max - eb.min + 1)
        guard pairs <= 1 << 22 else {
            throw LoweringError.inexact(file: state.file, node: node.name, reason: "cannot prove an integer form of a join of \(ea) and \(eb) (\(pairs) input pairs, at most 2^22)")
        }
        guard outType.element.kind != .bipolar else { throw fail(node.name, "a bipolar quantizer after a join is not supported") }
        let out = outType.element.min...outType.element.max   // where the kernel saturates
        let channels = epi.isUniform ? 1 : p.count
        var ms: [Int] = [], mb: [Int] = [], cs: [Int] = [], ss: [Int] = [], modes: [Bool] = []
        let s0 = outType.quant?.scales ?? [1]
        for c in 0..<channels {
            var table: [Int] = []
            table.reserveCapacity(pairs)
            for x in ea.min...ea.max { for y in eb.min...eb.max { table.append(epi.value((x, y), c)) } }
            try withinRange(epi, table.min() ?? 0, table.max() ?? 0, at: node)
            let ra = Double(ScalarOp.at(a.scales, c)) / (s0.count == 1 ? s0[0] : s0[c])
            let rb = Double(ScalarOp.at(epi.start.secondScale, c)) / (s0.count == 1 ? s0[0] : s0[c])
            guard let sol = joinRequantizer(table, ea: ea, eb: eb, ra: ra, rb: rb, out: out, halfEven: false)
                    ?? joinRequantizer(table, ea: ea, eb: eb, ra: ra, rb: rb, out: out, halfEven: true) else {
                throw LoweringError.inexact(file: state.file, node: node.name, reason: "no requantizer (a·Ma + b·Mb + C) >> S within \(EpilogueSolver.maxMultiplierBits)-bit multipliers reproduces this join on all \(pairs) input pairs (scale ratios \(fmt(ra)), \(fmt(rb)))")
            }
            ms.append(sol.0); mb.append(sol.1); cs.append(sol.2); ss.append(sol.3); modes.append(sol.4)
        }
        guard Set(modes).count == 1 else { throw LoweringError.inexact(file: state.file, node: node.name, reason: "the join's channels need different rounding modes") }
        let kernel = try elementwise(inputs: [a.type, b.type], outType: outType, channels: channels, multipliers: ms + mb, offsets: cs, shifts: ss,
                                     halfEven: modes[0], at: node)
        state.notes.append("\(node.name): join requantizer (a·\(ms[0]) + b·\(mb[0]) + \(cs[0])) >> \(ss[0]); equal to the model on all \(pairs) input pairs (enumerated)")
        let v = builder.add(builder.fresh("add"), sourceNodes: epi.nodes, kernel: kernel, inputs: [a.value, b.value], model: node.outputs[0])
        return QStream(value: v, type: outType, integerSeen: integerSeen)
    }

    /// `(Ma, Mb, C, S, halfEven)` with `clamp(shift(a·Ma + b·Mb + C, S)) = table[a][b]` for every pair, or nil.
    func joinRequantizer(_ table: [Int], ea: ElementType, eb: ElementType, ra: Double, rb: Double, out: ClosedRange<Int>,
                         halfEven: Bool) -> (Int, Int, Int, Int, Bool)? {
        let nb = eb.max - eb.min + 1
        for s in 0...EpilogueSolver.maxShift {
            let two = 1 << s
            // The smallest v the requantizer maps to level k or above.
            func boundary(_ k: Int) -> Int { halfEven && s > 0 ? (2 * k - 1) << (s - 1) + (k & 1 == 1 ? 1 : 0) : k << s }
            let a0 = Int((ra * Double(two)).rounded()), b0 = Int((rb * Double(two)).rounded())
            guard abs(a0) < 1 << EpilogueSolver.maxMultiplierBits, abs(b0) < 1 << EpilogueSolver.maxMultiplierBits else { return nil }
            for da in [0, -1, 1, -2, 2] {
                for db in [0, -1, 1, -2, 2] {
                    let ma = a0 + da, mb = b0 + db
                    var lo = Int.min / 4, hi = Int.max / 4
                    var ok = true
                    for (i, g) in table.enumerated() {
                        let v = (ea.min + i / nb) * ma + (eb.min + i % nb) * mb
                        if g > out.lowerBound { lo = max(lo, boundary(g) - v) }
                        if g < out.upperBound { hi = min(hi, boundary(g + 1) - v) }
                        if lo >= hi { ok = false; break }
                    }
                    if ok { return (ma, mb, lo, s, halfEven) }
                }
            }
        }
        return nil
    }

    // MARK: outputs, argmax, concat

    /// A pending value at the graph output without a quantizer: the exact accumulator, when the
    /// float arithmetic after it is at most a bias on the accumulator grid. For an argmax
    /// (`forArgmax`), further uniform scales and offsets are allowed when they keep distinct
    /// accumulators distinct and in order (checked on the whole range), since they do not move the argmax.
    mutating func rawOutput(_ p: Pending, at name: String, forArgmax: Bool = false) throws -> QStream {
        guard var plan = p.linear, case .accumulator = p.start else {
            throw fail(name, "the graph output is not quantized; end the model with a quantizer (Quant, QuantizeLinear), TopK or ArgMax")
        }
        var rest: [ScalarOp] = []
        for op in p.ops {
            if rest.isEmpty, case let .add(c) = op {
                let biases = plan.biases.indices.map { Double(ScalarOp.at(c, $0)) / plan.accScale[$0] }
                if biases.allSatisfy({ $0.rounded() == $0 && abs($0) < 1e15 }) {
                    for n in plan.biases.indices { plan.biases[n] += Int(biases[n]) }
                    continue
                }
            }
            rest.append(op)
        }
        if !rest.isEmpty {
            guard forArgmax else {
                throw fail(name, "the graph output is float arithmetic on a layer (\(p.nodes.joined(separator: ", "))); end the model with a quantizer, TopK or ArgMax")
            }
            // Argmax-preserving: one function for every output, strictly increasing on the accumulator range.
            let epi = Epilogue(start: p.start, ops: rest, quantizer: .bipolar, nodes: p.nodes)
            let options = state.options.options(name: plan.name, nodes: plan.nodes)
            let ranges = DSPLowering.accumulatorRanges(plan.rows, biases: plan.biases, x: plan.input.type.element, options: options.dsp)
            let lo = ranges.map(\.lo).min() ?? 0, hi = ranges.map(\.hi).max() ?? 0
            guard epi.isUniform, Set(plan.accScale).count == 1, hi - lo <= EpilogueSolver.enumerationBudget,
                  strictlyIncreasing(epi, lo: lo, hi: hi) else {
                throw fail(name, "the arithmetic before the argmax (\(p.nodes.joined(separator: ", "))) could reorder the outputs; LUTForge needs it uniform and strictly increasing")
            }
            state.notes.append("\(name): the scales and offsets before the argmax keep the order of the \(hi - lo + 1) accumulator values (checked), so the argmax reads the exact accumulator")
        }
        let options = state.options.options(name: plan.name, nodes: plan.nodes)
        let raw = try rawLinear(plan, options: options, ctx: LayerContext(file: state.file, node: plan.nodes[0], inputType: plan.input.type))
        if !forArgmax { state.notes.append("\(plan.name): the model's output is unquantized; the design outputs the exact accumulator (scale per output in model.hwir)") }
        return raw
    }

    /// Whether the float32 chain of `epi` (its start and ops, without the quantizer) is strictly increasing on `[lo, hi]`.
    func strictlyIncreasing(_ epi: Epilogue, lo: Int, hi: Int) -> Bool {
        guard case let .accumulator(s) = epi.start else { return false }
        var previous = -Float.infinity
        for acc in lo...hi {
            var x = Float(Double(acc) * s[0])
            for op in epi.ops { x = op.apply(x, 0) }
            guard x > previous else { return false }
            previous = x
        }
        return true
    }

    mutating func argmax(_ node: Node, output: String) throws {
        let (v, _) = try lookup(node.inputs[0], at: node)
        let s: QStream
        switch v {
        case let .stream(x): s = x
        case let .pending(p): s = try rawOutput(p, at: node.name, forArgmax: true)
        default: throw fail(node.name, "\(node.op.onnxName) must read a stream")
        }
        guard graph.outputs.contains(where: { $0.name == output }) else { throw fail(node.name, "\(node.op.onnxName) is supported only at the graph output") }
        let k = ArgMaxKernel(inputType: s.type)
        let out = builder.add(builder.fresh("argmax"), sourceNodes: [node.name], kernel: k, inputs: [s.value], model: output)
        values[output] = .stream(QStream(value: out, type: k.outputType))
        meaning = .classIndex(node: node.name)
    }

    mutating func concat(_ node: Node) throws {
        guard case let .concat(axis) = node.op else { return }
        let outShape = state.shapes[node.outputs[0]] ?? []
        let rank = outShape.count
        var streams: [QStream] = []
        var maps = 0
        for name in node.inputs {
            let (v, fact) = try lookup(name, at: node)
            guard case let .stream(s) = v else { throw fail(node.name, "Concat inputs must be quantized streams") }
            if let shape = state.shapes[name], shape.count >= 3, fact.order == WindowLowering.channelsLast(shape), s.type.framesPerInference > 1 { maps += 1 }
            else if fact.order != nil { throw fail(node.name, "Concat of a transposed view is not supported") }
            streams.append(s)
        }
        // Feature maps join along the channels, frame by frame; vectors along their last axis.
        if maps == streams.count {
            guard axis == 1 || axis == 1 - rank else { throw fail(node.name, "Concat of feature maps is supported along the channels (axis 1) only") }
            guard Set(streams.map { $0.type.framesPerInference }).count == 1 else { throw fail(node.name, "Concat of maps of different sizes") }
        } else {
            guard maps == 0, axis == -1 || axis == rank - 1 else { throw fail(node.name, "Concat is supported along the last axis only") }
        }
        let k = ConcatKernel(inputTypes: streams.map(\.type))
        guard streams.allSatisfy({ $0.type.element == streams[0].type.element && $0.type.quant == streams[0].type.quant }) else {
            throw fail(node.name, "Concat inputs must share element type and quantization (requantize them first)")
        }
        let out = builder.add(builder.fresh("cat"), sourceNodes: [node.name], kernel: k, inputs: streams.map(\.value), model: node.outputs[0])
        values[node.outputs[0]] = .stream(QStream(value: out, type: k.outputType, integerSeen: streams[0].integerSeen))
        if maps > 0 {
            noteMap(node.outputs[0], out, MapInfo(order: WindowLowering.channelsLast(outShape), channels: outShape[1], positions: Array(outShape.dropFirst(2))))
        }
    }
}

extension Pending {
    /// This epilogue with one more op, covering one more node.
    func appending(_ op: ScalarOp, _ node: String) -> Pending {
        var p = self
        p.ops.append(op)
        p.nodes.append(node)
        return p
    }
}

extension EpilogueStart {
    /// The second input's scale of a join.
    var secondScale: [Float] { if case let .sum(_, _, b, _) = self { return b } else { return [1] } }
}

extension LUTKernel {
    /// `[lo, hi]` of column `n`'s accumulator for any input: its bias plus, per position, the extremes of its table column.
    func accumulatorRange(_ n: Int) -> (Int, Int) {
        let g = n / groupColumns
        var lo = biases[n], hi = biases[n]
        for p in 0..<positions {
            let w = code(p, n)
            let column = (0..<activationCentroids).map { entry(p, g, $0, w) }
            lo += column.min() ?? 0
            hi += column.max() ?? 0
        }
        return (lo, hi)
    }
}
