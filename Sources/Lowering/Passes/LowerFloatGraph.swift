// lower-float-graph: a float model becomes HardwareIR with LUTForge's own
// quantization: fully connected layers (MatMul + bias + ReLU or Sigmoid) on
// DSP-chain or LUT-linear kernels with calibrated output types, residual Adds and
// constant scales on elementwise kernels, Concat, and a final Softmax, TopK or
// ArgMax (docs/numerics.md, "Float models").
import Foundation
import HardwareIR
import ModelGraph
import Quantize
import ReferenceEngine

/// Lowers a float model.
public struct LowerFloatGraph: Pass {
    public static let name = "lower-float-graph"
    public static let summary = "quantize a float model's layers, joins and outputs onto kernels with calibrated types"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        // A map input is streamed in model order unless a convolution needs it channels-last.
        do {
            var lowering = FloatLowering(state: state, channelsLastInput: false)
            try lowering.run()
            state = lowering.state
        } catch is NeedsChannelsLastInput {
            var lowering = FloatLowering(state: state, channelsLastInput: true)
            try lowering.run()
            state = lowering.state
        }
    }
}

/// A window op reads the graph input in model order: lower again with the input streamed channels-last.
struct NeedsChannelsLastInput: Error {}

/// What a float layer does after its bias.
enum FloatActivation { case none, relu, sigmoid }

struct FloatLowering {
    var state: LoweringState
    var builder = ProgramBuilder()
    var streams: [String: QStream] = [:]
    var consumed: Set<String> = []
    var meaning: OutputMeaning = .values
    var calibrationInputs: [[Int]] = []
    var inputQuantizer: InputQuantizer?
    /// Values that must share one range (the inputs of a Concat).
    var rangeGroups: [String: ObservedRange] = [:]
    /// The stream order of model values streamed in another order than the model's (feature maps,
    /// channels-last): `orders[v][m]` is the stream index of model element `m`.
    var orders: [String: [Int]] = [:]
    /// Pads folded into the window op that reads them, by the Pad's output.
    var foldedPads: [String: WindowLowering.FoldedPad] = [:]
    /// Stream the graph input channels-last.
    let channelsLastInput: Bool

    init(state: LoweringState, channelsLastInput: Bool) {
        self.state = state
        self.channelsLastInput = channelsLastInput
    }

    var graph: Graph { state.graph }
    func fail(_ node: String, _ reason: String) -> LoweringError { state.unsupported(node, reason) }

    /// The stream behind model value `name` (through layout facts); the fact's order is composed with
    /// the order of the source's stream. An elementwise reader (`permitMap`) may read a channels-last map.
    func stream(_ name: String, at node: Node, permitOrder: Bool = false, permitMap: Bool = false) throws -> (QStream, LayoutFact) {
        var fact = state.resolve(name)
        guard let s = streams[fact.source] else {
            if graph.initializers[name] != nil { throw fail(node.name, "input '\(name)' is a constant; LUTForge needs a streamed activation here") }
            throw fail(node.name, "input '\(name)' is not computed by a supported node")
        }
        fact.order = WindowLowering.compose(fact.order, over: orders[fact.source])
        if let o = fact.order, !permitOrder {
            let shape = state.shapes[name] ?? []
            guard permitMap, shape.count >= 3, o == WindowLowering.channelsLast(shape) else {
                throw fail(node.name, "input '\(name)' is a transposed view; only a MatMul or Gemm can read one")
            }
        }
        return (s, fact)
    }

    /// The layout of a model value of `shape` streamed in `order` (nil: model order).
    func layout(_ order: [Int]?, shape: [Int]) -> StreamLayout? {
        guard order != nil, shape.count >= 3 else { return nil }
        return .channelsLast(channels: shape[1])
    }

    /// The single reader of `value`, if there is exactly one and `value` is not a graph output;
    /// layout ops (Identity, Reshape, Flatten, …) in between are looked through.
    func soleReader(_ value: String) -> Node? {
        guard !graph.outputs.contains(where: { $0.name == value }) else { return nil }
        let readers = graph.consumers(of: value)
        guard readers.count == 1, let r = readers.first else { return nil }
        switch r.op {
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze: return soleReader(r.outputs[0])
        default: return r
        }
    }

    func range(_ value: String) -> ObservedRange { rangeGroups[value] ?? state.ranges[value] ?? ObservedRange(min: 0, max: 0) }

    /// Whether `value` (or what it becomes through layout ops) ends the model or feeds only its final Softmax/TopK/ArgMax.
    func isFinal(_ value: String) -> Bool {
        if graph.outputs.contains(where: { $0.name == value }) { return true }
        let readers = graph.consumers(of: value)
        guard readers.count == 1, let r = readers.first else { return false }
        switch r.op {
        case .softmax, .topK, .argMax: return true
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze: return isFinal(r.outputs[0])
        default: return false
        }
    }

    /// The calibrated type of a value: unsigned after a ReLU, 16-bit logits at the output, else 8-bit signed.
    func outputType(_ value: String, unsigned: Bool) -> (IntType, Double) {
        let r = range(value)
        if unsigned { return (.uint(8), ActivationQuantizer.unsignedScale(r, bits: 8)) }
        let bits = isFinal(value) ? 16 : 8
        return (.int(bits), ActivationQuantizer.signedScale(r, bits: bits))
    }

    mutating func run() throws {
        // Concat inputs share one range so the concatenated stream has one scale.
        for node in graph.nodes {
            guard case .concat = node.op else { continue }
            let sources = node.inputs.map { state.resolve($0).source }
            let lo = sources.map { range($0).min }.min() ?? 0, hi = sources.map { range($0).max }.max() ?? 0
            let unsignedAll = sources.allSatisfy { range($0).min >= 0 }
            for s in sources { rangeGroups[s] = ObservedRange(min: unsignedAll ? 0 : lo, max: hi) }
        }
        try setUpInput()
        for node in graph.nodes where !consumed.contains(node.name) { try visit(node) }
        let outName = graph.outputs[0].name
        var fact = state.resolve(outName)
        fact.order = WindowLowering.compose(fact.order, over: orders[fact.source])
        let outShape = state.shapes[outName] ?? []
        guard fact.order == nil || (outShape.count >= 3 && fact.order == WindowLowering.channelsLast(outShape)) else {
            throw fail(outName, "the graph output is a transposed view of a stream")
        }
        guard let out = streams[fact.source] else { throw fail(outName, "the graph output is not computed by a supported node") }
        guard !builder.nodes.isEmpty else {
            throw LoweringError.unsupported(file: state.file, node: "graph", reason: "the model has no Gemm or MatMul layer to compile")
        }
        var program = builder.program(name: graph.name.isEmpty ? "model" : graph.name, sourceFile: URL(fileURLWithPath: state.file).lastPathComponent,
                                      output: out.value, meaning: meaning, calibration: state.options.calibrationSource, inputQuantizer: inputQuantizer)
        program.sourceValues[out.value] = outName
        if let l = layout(fact.order, shape: outShape) { program.layouts[out.value] = l } else { program.layouts[out.value] = nil }
        state.program = program
    }

    mutating func setUpInput() throws {
        let info = graph.inputs[0]
        let count = state.shapes[info.name]?.reduce(1, *) ?? 0
        let r = range(info.name)
        let unsigned = r.min >= 0
        let t: IntType = unsigned ? .uint(8) : .int(8)
        let scale = unsigned ? ActivationQuantizer.unsignedScale(r, bits: 8) : ActivationQuantizer.signedScale(r, bits: 8)
        let shape = state.shapes[info.name] ?? [count]
        var type = TensorType.vector(ElementType(t), count, quant: .scale(scale))
        if channelsLastInput {
            guard shape.count >= 3 else { throw fail(info.name, "a window op reads the input, which is not an [N, C, …] tensor") }
            type = WindowLowering.mapType(ElementType(t), modelShape: shape, quant: .scale(scale))
            orders[info.name] = WindowLowering.channelsLast(shape)
            builder.layouts[builder.input] = .channelsLast(channels: shape[1])
        } else if let view = WindowLowering.channelsLastView(of: info.name, in: graph, state: state) {
            // A channels-last input (Keras NHWC) that a window op sees through a Transpose: already in stream order.
            type = WindowLowering.mapType(ElementType(t), modelShape: view, quant: .scale(scale))
        }
        builder.setInput(type, model: info.name)
        streams[info.name] = QStream(value: builder.input, type: type)
        inputQuantizer = InputQuantizer(scale: Float(scale), zeroPoint: 0, lo: t.min, hi: t.max, order: .roundAddClamp,
                                        source: "calibrated: \(t) at scale \(fmt(scale))")
        calibrationInputs = state.options.calibration.map { row in
            row.map { ActivationQuantizer.quantize(Double($0), scale: scale, lo: t.min, hi: t.max) }
        }
        if let l = builder.layouts[builder.input] { calibrationInputs = calibrationInputs.map(l.toStream) }
    }

    mutating func visit(_ node: Node) throws {
        switch node.op {
        case .identity, .reshape, .flatten, .squeeze, .unsqueeze, .transpose: return   // layout facts
        case .matMul: try layer(node)
        case .add, .sub:
            let constant = node.inputs.contains { graph.initializers[$0] != nil }
            if constant { try affine(node) } else { try join(node) }
        case .mul, .div: try affine(node)
        case .relu: try affine(node)
        case .batchNormalization: try affine(node)
        case let .softmax(axis):
            let rank = state.shapes[node.inputs[0]]?.count ?? 2
            guard axis == -1 || axis == rank - 1 else { throw fail(node.name, "Softmax must be over the feature axis (axis 1 or -1), got \(axis)") }
            guard graph.outputs.contains(where: { $0.name == node.outputs[0] }) else {
                throw fail(node.name, "only a final Softmax is supported; Softmax is supported only as the last node, directly after a linear layer")
            }
            let (s, _) = try stream(node.inputs[0], at: node)
            streams[node.outputs[0]] = s
            meaning = .logits(softmaxNode: node.name)
            state.notes.append("final Softmax '\(node.name)' lowered to argmax-preserving logits on hardware; apply softmax on the host if probabilities are needed")
        case let .topK(_, largest, _):
            guard largest, graph.initializers[node.inputs[1]]?.integerValues == [1] else { throw fail(node.name, "only TopK with k = 1 and largest = 1 is supported") }
            let out = node.outputs.count > 1 ? node.outputs[1] : node.outputs[0]
            if node.outputs.count > 1, graph.nodes.contains(where: { $0.inputs.contains(node.outputs[0]) }) || graph.outputs.contains(where: { $0.name == node.outputs[0] }) {
                throw fail(node.name, "TopK's values output is used; only its indices are supported")
            }
            try argmax(node, output: out)
        case let .argMax(_, _, last):
            guard !last else { throw fail(node.name, "ArgMax with select_last_index = 1 is not supported") }
            try argmax(node, output: node.outputs[0])
        case let .concat(axis):
            let outShape = state.shapes[node.outputs[0]] ?? []
            let rank = outShape.count
            let read = try node.inputs.map { try stream($0, at: node, permitMap: true) }
            let inputs = read.map(\.0)
            // Feature maps (channels-last) join along the channels, frame by frame; vectors along their last axis.
            let maps = read.allSatisfy { $0.1.order != nil }
            if maps {
                guard axis == 1 || axis == 1 - rank else { throw fail(node.name, "Concat of feature maps is supported along the channels (axis 1) only") }
                guard Set(inputs.map { $0.type.framesPerInference }).count == 1 else { throw fail(node.name, "Concat of maps of different sizes") }
            } else {
                guard axis == -1 || axis == rank - 1, read.allSatisfy({ $0.1.order == nil }) else { throw fail(node.name, "Concat is supported along the last axis only") }
            }
            guard inputs.allSatisfy({ $0.type.element == inputs[0].type.element && $0.type.quant == inputs[0].type.quant }) else {
                throw fail(node.name, "Concat inputs have different types (\(inputs.map { String(describing: $0.type) }.joined(separator: ", "))); LUTForge aligns only inputs computed by layers")
            }
            let k = ConcatKernel(inputTypes: inputs.map(\.type))
            let order = maps ? WindowLowering.channelsLast(outShape) : nil
            let v = builder.add(builder.fresh("cat"), sourceNodes: [node.name], kernel: k, inputs: inputs.map(\.value), model: node.outputs[0],
                                layout: layout(order, shape: outShape))
            streams[node.outputs[0]] = QStream(value: v, type: k.outputType)
            if let order { orders[node.outputs[0]] = order }
        case .sigmoid:
            throw fail(node.name, "Sigmoid must follow a Gemm, MatMul or bias Add")
        case .gemm:
            throw fail(node.name, "Gemm should have been canonicalized")
        case .clip:
            throw fail(node.name, "Clip in a float model is not supported")
        case .conv: try conv(node)
        case .maxPool, .averagePool, .globalAveragePool, .globalMaxPool: try pool(node)
        case .pad: try foldPad(node)
        case .convInteger, .qLinearConv:
            throw fail(node.name, "\(node.op.onnxName) in a float model is not supported (it belongs in a quantized model)")
        case .shape, .gather, .cast:
            throw fail(node.name, "\(node.op.onnxName) of a non-constant tensor is not supported")
        default:
            throw fail(node.name, "\(node.op.onnxName) is not supported in a float model")
        }
    }

    // MARK: layers

    mutating func layer(_ mm: Node) throws {
        guard let w = graph.initializers[mm.inputs[1]], w.rank == 2 else {
            throw fail(mm.name, "input 1 must be a constant initializer (LUTForge compiles fixed weights)")
        }
        let (x, fact) = try stream(mm.inputs[0], at: mm, permitOrder: true)
        let (k, n) = (w.shape[0], w.shape[1])
        guard k > 0, n > 0 else { throw fail(mm.name, "empty weight matrix") }
        guard k == x.count else { throw fail(mm.name, "weight expects \(k) inputs but receives \(x.count)") }
        var nodes = [mm.name]
        var value = mm.outputs[0]
        var bias = [Float](repeating: 0, count: n)
        if let add = soleReader(value), case .add = add.op, let i = add.inputs.firstIndex(where: { graph.initializers[$0] != nil }) {
            let c = graph.initializers[add.inputs[i]]!
            guard c.count == n || c.count == 1 else { throw fail(add.name, "bias of shape \(c.shape) does not broadcast to \(n) outputs") }
            bias = c.count == 1 ? [Float](repeating: c.data[0], count: n) : c.data
            nodes.append(add.name)
            consumed.insert(add.name)
            value = add.outputs[0]
        }
        // Rows [out][in] in stream order (a transposed view permutes the columns).
        var rows = (0..<n).map { o in (0..<k).map { w.data[$0 * n + o] } }
        if let order = fact.order {
            rows = rows.map { row in
                var r = [Float](repeating: 0, count: k)
                for (logical, streamIndex) in order.enumerated() { r[streamIndex] = row[logical] }
                return r
            }
        }
        try emitLinear(mm, x: x, rows: rows, bias: bias, value: value, nodes: nodes, prefix: "fc")
    }

    /// The kernel of a linear layer over `x` (vectors, or the windows of a convolution): `rows` in
    /// stream order, the real `bias`, a following ReLU or Sigmoid absorbed, the output quantized on
    /// its calibrated range. Registers the stream of the value it ends at.
    mutating func emitLinear(_ mm: Node, x: QStream, rows: [[Float]], bias: [Float], value start: String, nodes start0: [String], prefix: String,
                             order: [Int]? = nil, shape: [Int]? = nil) throws {
        var nodes = start0, value = start
        let n = rows.count
        let pre = value
        var activation = FloatActivation.none
        if let act = soleReader(value) {
            switch act.op {
            case .relu: activation = .relu
            case .sigmoid: activation = .sigmoid
            default: break
            }
            if activation != .none {
                nodes.append(act.name)
                consumed.insert(act.name)
                value = act.outputs[0]
            }
        }
        nodes = nodes.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        let name = builder.fresh(prefix)
        let options = state.options.options(name: name, nodes: nodes)
        let ctx = LayerContext(file: state.file, node: mm.name, inputType: x.type)
        guard let sx = x.type.quant?.scales.first else { throw fail(mm.name, "input has no scale") }
        // Output side.
        var requantized: IntType, requantScale: Double, table: ActivationTable?, outScale: Double
        switch activation {
        case .relu:
            (requantized, requantScale) = outputType(value, unsigned: true)
            outScale = requantScale
        case .sigmoid:
            let r = IntType.int(8), out = IntType.uint(8)
            let scale = ActivationQuantizer.signedScale(range(pre), bits: 8)
            requantized = r
            requantScale = scale
            table = ActivationTable(function: "sigmoid", input: r, output: out, values: (r.min...r.max).map { v in
                Int(roundHalfEven(Double(out.max) / (1 + exp(-Double(v) * scale))))
            })
            outScale = 1 / Double(out.max)
        case .none:
            (requantized, requantScale) = outputType(value, unsigned: false)
            outScale = requantScale
        }
        let kernel: any KernelDefinition
        switch options.kind {
        case .dsp:
            let (ints, wScales) = try DSPLowering.quantizeWeights(ctx, rows: rows, options: options.dsp)
            let zero = [Int](repeating: 0, count: n)
            let ranges = DSPLowering.accumulatorRanges(ints, biases: zero, x: x.type.element, options: options.dsp)
            let qs = try (0..<n).map { o in
                try DSPLowering.requantizer(ctx, accScale: sx * wScales[o], outScale: requantScale, bias: Double(bias[o]),
                                            accBound: max(abs(ranges[o].lo), abs(ranges[o].hi)), output: o, range: requantized)
            }
            let spec = OutputSpec(requantizers: qs, requantized: requantized, table: table, quant: .scale(outScale))
            kernel = try DSPLowering.build(ctx, rows: ints, biases: zero, output: spec, lanes: options.lanes, options: options.dsp)
        case .lut:
            let calibration = WindowLowering.frames(try builder.evaluate(x.value, on: calibrationInputs), size: rows.first?.count ?? 1)
            let (k, notes, _) = try LUTLowering.lower(ctx, layer: FloatLayer(name: name, weight: rows, bias: bias),
                                                     output: .requantized(requantized, scale: requantScale, table: table, quant: .scale(outScale)),
                                                     options: options.lut, calibration: calibration,
                                                     seed: state.options.seed &+ UInt64(Int(name.dropFirst(2)) ?? 0) << 32)
            state.notes += notes
            kernel = k
        }
        let v = builder.add(name, sourceNodes: nodes, kernel: kernel, inputs: [x.value], model: value, layout: shape.flatMap { layout(order, shape: $0) })
        streams[value] = QStream(value: v, type: kernel.outputType)
        if let order { orders[value] = order }
    }

    // MARK: elementwise

    /// A multiplier set for ratios `ratios` (real output steps per input step) with a common shift,
    /// the largest below 2^15 in magnitude.
    func multipliers(_ ratios: [Double], at node: Node) throws -> (m: [Int], shift: Int) {
        let biggest = ratios.map(abs).max() ?? 0
        guard biggest > 0, biggest.isFinite else { return (ratios.map { _ in 0 }, 0) }
        var s = 0
        while s < 40 && biggest * pow2(s + 1) < Double(1 << 15) { s += 1 }
        guard biggest * pow2(s) < Double(1 << 16) else {
            throw LoweringError.unprovable(file: state.file, node: node.name, reason: "scale ratio \(biggest) is too large for an elementwise requantizer")
        }
        return (ratios.map { Int(roundHalfEven($0 * pow2(s))) }, s)
    }

    /// Absorbs a following ReLU into `value`'s output type.
    mutating func absorbRelu(_ value: String, _ nodes: inout [String]) -> (String, Bool) {
        if let r = soleReader(value), case .relu = r.op {
            nodes.append(r.name)
            consumed.insert(r.name)
            return (r.outputs[0], true)
        }
        return (value, false)
    }

    /// An elementwise kernel: per channel, `y = Σ_p x_p · ratio_p + offset` (real units) requantized to the
    /// calibrated type of the value it ends at (a following ReLU absorbed). For a map (`order`, channels-last)
    /// the parameters are per channel; for a vector per element or one for all.
    mutating func emitElementwise(_ node: Node, inputs: [QStream], ratios: [[Double]], offsets realOffsets: [Double], value start: String, nodes: [String],
                                  order: [Int]? = nil, shape: [Int]? = nil) throws {
        var nodes = nodes
        let (value, relu) = absorbRelu(start, &nodes)
        let (t, s) = outputType(value, unsigned: relu)
        let channels = max(ratios.map(\.count).max() ?? 1, realOffsets.count)
        let flat = (0..<inputs.count).flatMap { p in (0..<channels).map { c in (ratios[p].count == 1 ? ratios[p][0] : ratios[p][c]) / s } }
        let (m, shift) = try multipliers(flat, at: node)
        let offsets = (0..<channels).map { c -> Int in
            let b = realOffsets.isEmpty ? 0 : (realOffsets.count == 1 ? realOffsets[0] : realOffsets[c])
            return Int(roundHalfEven(b / s * pow2(shift))) + (shift > 0 ? 1 << (shift - 1) : 0)
        }
        let x0 = inputs[0].type
        let out = TensorType(element: ElementType(t), shape: x0.shape, quant: .scale(s), framesPerInference: x0.framesPerInference)
        let mType = Arith.signedType(m.min() ?? 0, m.max() ?? 0)!
        let cType = Arith.signedType(offsets.min() ?? 0, offsets.max() ?? 0)!
        var lo = 0, hi = 0
        for c in 0..<channels {
            var l = offsets[c], h = offsets[c]
            for (p, x) in inputs.enumerated() {
                let mm = m[p * channels + c], a = x.type.element.min * mm, b = x.type.element.max * mm
                l += min(a, b)
                h += max(a, b)
            }
            lo = min(lo, l)
            hi = max(hi, h)
        }
        let scaled = IntType.int(max(IntType.signedFitting(lo, hi)!.bits, t.bits + 1, cType.bits, mType.bits + inputs.map(\.type.storage.bits).max()! + 1))
        let kernel = ElementwiseKernel(inputTypes: inputs.map(\.type), outputType: out, channels: channels, multipliers: m,
                                       offsets: offsets, shifts: [Int](repeating: shift, count: channels), multiplier: mType,
                                       offset: cType, shift: IntType.unsignedFitting(max(shift, 1))!, scaled: scaled)
        let prefix = inputs.count == 2 ? "add" : "ew"
        let v = builder.add(builder.fresh(prefix), sourceNodes: nodes, kernel: kernel, inputs: inputs.map(\.value), model: value,
                            layout: shape.flatMap { layout(order, shape: $0) })
        streams[value] = QStream(value: v, type: out)
        if let order { orders[value] = order }
    }

    /// A residual Add or Sub of two streams (vectors, or maps in the same order).
    mutating func join(_ node: Node) throws {
        let (a, fa) = try stream(node.inputs[0], at: node, permitMap: true), (b, fb) = try stream(node.inputs[1], at: node, permitMap: true)
        guard a.count == b.count, a.type.framesPerInference == b.type.framesPerInference, fa.order == fb.order else {
            throw fail(node.name, "\(node.op.onnxName) of streams of different sizes or layouts (broadcasting is not supported)")
        }
        let sb = b.type.quant!.scales[0] * (node.op == .sub ? -1 : 1)
        try emitElementwise(node, inputs: [a, b], ratios: [[a.type.quant!.scales[0]], [sb]], offsets: [], value: node.outputs[0], nodes: [node.name],
                            order: fa.order, shape: state.shapes[node.outputs[0]])
    }

    /// Mul, Div, Add, Sub by a constant, a ReLU or a batch norm that no layer absorbed: one input, per-element
    /// (per channel on a map) scale and offset.
    mutating func affine(_ node: Node) throws {
        let x: QStream
        var fact: LayoutFact
        var scale: [Double] = [1], offset: [Double] = []
        let shape = state.shapes[node.outputs[0]] ?? []
        let streamIndex = node.op == .relu || node.op.onnxName == "BatchNormalization" ? 0 : 1 - (node.inputs.firstIndex { graph.initializers[$0] != nil } ?? 1)
        (x, fact) = try stream(node.inputs[streamIndex], at: node, permitMap: true)
        let isMap = fact.order != nil
        /// A constant broadcast to the value: one value, per element of a vector, or per channel of a map.
        func perElement(_ t: FloatTensor) throws -> [Double] {
            guard FloatInterpreter.broadcastShape(shape, t.shape) == shape else { throw fail(node.name, "constant of shape \(t.shape) does not broadcast") }
            let v = FloatInterpreter.broadcastIndices(t.shape, to: shape).map { Double(t.data[$0]) }
            if Set(v).count == 1 { return [v[0]] }
            guard isMap else { return v }
            let c = shape[1], p = v.count / c
            let perChannel = (0..<c).map { v[$0 * p] }
            guard (0..<v.count).allSatisfy({ v[$0] == perChannel[$0 / p] }) else {
                throw fail(node.name, "a constant that varies across the positions of a feature map is not supported")
            }
            return perChannel
        }
        switch node.op {
        case .relu:
            let value = node.outputs[0]
            // A ReLU alone: requantize to the unsigned type (the clamp at 0 is the ReLU).
            let s = ActivationQuantizer.unsignedScale(range(value), bits: 8)
            let (m, shift) = try multipliers([x.type.quant!.scales[0] / s], at: node)
            let out = TensorType(element: .uint(8), shape: x.type.shape, quant: .scale(s), framesPerInference: x.type.framesPerInference)
            let c = shift > 0 ? 1 << (shift - 1) : 0
            let kernel = ElementwiseKernel(inputTypes: [x.type], outputType: out, channels: 1, multipliers: m, offsets: [c], shifts: [shift],
                                           multiplier: Arith.signedType(m[0], m[0])!, offset: Arith.signedType(c, c)!,
                                           shift: IntType.unsignedFitting(max(shift, 1))!,
                                           scaled: IntType.int(max(IntType.signedFitting(x.type.element.min * m[0] + c, x.type.element.max * m[0] + c)!.bits, 10)))
            let v = builder.add(builder.fresh("ew"), sourceNodes: [node.name], kernel: kernel, inputs: [x.value], model: value,
                                layout: layout(fact.order, shape: shape))
            streams[value] = QStream(value: v, type: out)
            if let o = fact.order { orders[value] = o }
            return
        case let .batchNormalization(eps):
            let p = try (1...4).map { i -> FloatTensor in
                guard let t = graph.initializers[node.inputs[i]] else { throw fail(node.name, "BatchNormalization parameters must be constants") }
                return t
            }
            let c = shape.count >= 2 ? shape[1] : 1, inner = shape.count > 2 ? shape[2...].reduce(1, *) : 1
            let coeff = (0..<c).map { QuantArith.batchNormCoefficients(gamma: p[0].data[$0], beta: p[1].data[$0], mean: p[2].data[$0], variance: p[3].data[$0], epsilon: eps) }
            if isMap {
                scale = coeff.map { Double($0.scale) }
                offset = coeff.map { Double($0.bias) }
            } else {
                scale = (0..<x.count).map { Double(coeff[($0 / inner) % c].scale) }
                offset = (0..<x.count).map { Double(coeff[($0 / inner) % c].bias) }
            }
        default:
            let ci = 1 - streamIndex
            let c = try perElement(graph.initializers[node.inputs[ci]]!)
            switch node.op {
            case .mul: scale = c
            case .div:
                guard ci == 1 else { throw fail(node.name, "division of a constant by a stream is not supported") }
                scale = c.map { 1 / $0 }
            case .add: offset = c
            default:
                if ci == 1 { offset = c.map { -$0 } } else { scale = [-1]; offset = c }
            }
        }
        let sx = x.type.quant!.scales[0]
        try emitElementwise(node, inputs: [x], ratios: [scale.map { $0 * sx }], offsets: offset, value: node.outputs[0], nodes: [node.name],
                            order: fact.order, shape: shape)
    }

    mutating func argmax(_ node: Node, output: String) throws {
        guard graph.outputs.contains(where: { $0.name == output }) else { throw fail(node.name, "\(node.op.onnxName) is supported only at the graph output") }
        let (s, _) = try stream(node.inputs[0], at: node)
        let k = ArgMaxKernel(inputType: s.type)
        let v = builder.add(builder.fresh("argmax"), sourceNodes: [node.name], kernel: k, inputs: [s.value], model: output)
        streams[output] = QStream(value: v, type: k.outputType)
        meaning = .classIndex(node: node.name)
    }
}
