// Convolutions and pools of quantized models, exactly: a sliding-window generator
// (padding reads the input's zero point, so it contributes the real value 0) feeding a
// linear plan over the windows, whose epilogue is realized per output channel as for
// a fully connected layer; max pools on the integers (the order of a positive scale
// is the order of the reals); average pools as an exact sum whose division is part of
// the next quantizer's epilogue (docs/numerics.md, "Quantized models", "Pools").
import HardwareIR
import ModelGraph
import ReferenceEngine

extension QuantizedLowering {
    /// A constant Pad whose readers are all window ops: folded into their padding.
    mutating func foldPad(_ node: Node) throws {
        foldedPads[node.outputs[0]] = try state.foldedPad(node, readers: "convolution, MaxPool or AveragePool") {
            switch $0 { case .conv, .convInteger, .qLinearConv, .maxPool, .averagePool: true; default: false }
        }
    }

    /// The quantized map a window op reads, its model shape, a folded Pad.
    func windowInput(_ node: Node) throws -> (QStream, shape: [Int], pad: WindowLowering.FoldedPad?) {
        var name = node.inputs[0]
        let pad = foldedPads[name]
        if let pad { name = pad.source }
        let shape = state.shapes[name] ?? []
        guard (3...4).contains(shape.count), shape[0] == 1 else {
            throw fail(node.name, "\(node.op.onnxName) needs a [1, C, W] or [1, C, H, W] input, got \(shape)")
        }
        let (v, fact) = try lookup(name, at: node, permitOrder: true)
        guard case let .stream(s) = v else {
            throw fail(node.name, "the input of \(node.op.onnxName) is not quantized (put a Quant, MultiThreshold or QuantizeLinear before it)")
        }
        guard fact.order == WindowLowering.channelsLast(shape), s.type.framesPerInference > 1 || shape.dropFirst(2).reduce(1, *) == 1 else {
            if fact.order == nil && s.value == builder.input && !channelsLastInput { throw NeedsChannelsLastInput() }
            throw fail(node.name, "input '\(name)' is not streamed channels-last (a Transpose LUTForge cannot follow)")
        }
        guard s.type.quant?.isPerTensor != false else { throw fail(node.name, "a window op needs a per-tensor quantized input") }
        return (s, shape, pad)
    }

    /// Conv on Quant'd (or integer) weights, ConvInteger and QLinearConv.
    mutating func convolution(_ node: Node) throws {
        let (x, shape, pad) = try windowInput(node)
        let a: ConvAttributes
        switch node.op {
        case let .conv(c), let .convInteger(c), let .qLinearConv(c): a = c
        default: return
        }
        let wIndex = node.op.onnxName == "QLinearConv" ? 3 : 1
        // Integer weights `q − z` and their scales.
        let ints: [Int], wShape: [Int], wScales: [Float]
        var start: EpilogueStart = .accumulator(scale: [])
        var closing: ClosingQuantizer?
        var xZero = x.zeroPoints[0]
        var extraBias: [Int]?
        switch node.op {
        case .conv:
            guard !x.integerSeen else { throw fail(node.name, "Conv of a QuantizeLinear output needs a DequantizeLinear first") }
            let name = node.inputs[1]
            if let q = values[name], case let .quantizedConstant(m) = q {
                (ints, wShape) = (m.ints, m.shape)
                let cout = m.shape[0], per = m.ints.count / cout
                wScales = try (0..<cout).map { o in
                    let s = m.scales[o * per]
                    guard m.scales[(o * per)..<((o + 1) * per)].allSatisfy({ $0 == s }) else {
                        throw fail(node.name, "the weight scale varies within an output channel; only one scale per output channel is supported")
                    }
                    return s
                }
            } else if let c = graph.initializers[name], let iv = c.integerValues {
                (ints, wShape, wScales) = (iv, c.shape, [Float](repeating: 1, count: c.shape[0]))
            } else if graph.initializers[name] != nil {
                throw fail(node.name, "the weights are float, not quantized (add a Quant or DequantizeLinear on them, or compile the float model)")
            } else {
                throw fail(node.name, "input 1 must be a constant (LUTForge compiles fixed weights)")
            }
        case .convInteger, .qLinearConv:
            guard x.integerSeen else { throw fail(node.name, "\(node.op.onnxName) must read a QuantizeLinear output") }
            guard let w = graph.initializers[node.inputs[wIndex]], let wi = w.integerValues else { throw fail(node.name, "the weights must be a constant integer tensor") }
            let zwIndex = node.op.onnxName == "QLinearConv" ? 5 : 3
            let zw = node.inputs.count > zwIndex && !node.inputs[zwIndex].isEmpty ? graph.initializers[node.inputs[zwIndex]]?.integerValues ?? [0] : [0]
            let cout = w.shape[0], per = wi.count / cout
            ints = wi.indices.map { wi[$0] - (zw.count == 1 ? zw[0] : zw[$0 / per]) }
            wShape = w.shape
            let zxIndex = node.op.onnxName == "QLinearConv" ? 2 : 2
            xZero = node.inputs.count > zxIndex && !node.inputs[zxIndex].isEmpty ? graph.initializers[node.inputs[zxIndex]]?.integerValues?.first ?? 0 : 0
            start = .integerValue
            if node.op.onnxName == "QLinearConv" {
                guard let sx = graph.initializers[node.inputs[1]], let sw = graph.initializers[node.inputs[4]], let sy = graph.initializers[node.inputs[6]],
                      let zy = graph.initializers[node.inputs[7]], let zyv = zy.integerValues, let range = zy.dtype.integerRange else {
                    throw fail(node.name, "scales and zero points must be constants")
                }
                wScales = (0..<cout).map { sw.count == 1 ? sw.data[0] : sw.data[$0] }
                let m = wScales.map { sx.data[0] * $0 / sy.data[0] }
                closing = .requantizeORT(multiplier: Set(m).count == 1 ? [m[0]] : m, zeroPoint: [zyv[0]], range: range)
                if node.inputs.count > 8, !node.inputs[8].isEmpty {
                    guard let b = graph.initializers[node.inputs[8]]?.integerValues, b.count == cout else { throw fail(node.name, "the bias must be \(cout) integers") }
                    extraBias = b
                }
            } else {
                wScales = [Float](repeating: 1, count: cout)
            }
        default: return
        }
        let cin = shape[1], cout = wShape[0], groups = a.group
        guard groups >= 1, cin % groups == 0, cout % groups == 0, wShape.count == shape.count, wShape[1] * groups == cin else {
            throw fail(node.name, "weight \(wShape) and group \(groups) do not fit \(cin) input channels")
        }
        let g = try state.windowGeometry(node, shape: shape, weight: wShape, pad: pad)
        let padValue = try state.padInteger(pad?.value ?? 0, x, at: node)
        guard padValue == xZero else { throw fail(node.name, "the padding value is not the input's zero point") }
        let window = WindowLowering.slidingWindow(x.type, channels: cin, g, padValue: padValue, groups: groups)
        let wv = builder.add(builder.fresh("win"), sourceNodes: [node.name], kernel: window, inputs: [x.value], model: nil)
        let windows = QStream(value: wv, type: window.outputType, integerSeen: x.integerSeen)
        let rows = WindowLowering.convRows(ints, cout: cout, cin: cin, kernel: Array(wShape.dropFirst(2)), groups: groups)
        // Input zero points: Σ w·(q − z) = Σ w·q − z·Σ w (padding reads z, so it adds nothing).
        var biases = rows.map { -xZero * $0.reduce(0, +) }
        if let b = extraBias { biases = zip(biases, b).map { $0 + $1 } }
        let outShape = state.shapes[node.outputs[0]] ?? [1, cout] + g.output
        var ops: [ScalarOp] = []
        if case .conv = node.op, node.inputs.count > 2, !node.inputs[2].isEmpty {
            let real: [Float]
            if let v = values[node.inputs[2]], case let .quantizedConstant(qb) = v { real = zip(qb.ints, qb.scales).map { Float($0) * $1 } }
            else if let c = graph.initializers[node.inputs[2]] { real = c.data } else { throw fail(node.name, "the bias must be a constant") }
            guard real.count == cout else { throw fail(node.name, "the bias must have \(cout) values") }
            ops.append(.add(Set(real).count == 1 ? [real[0]] : real))
        }
        if case .accumulator = start {
            let sx = Double(x.scales[0])
            let acc = wScales.map { sx * Double($0) }
            start = .accumulator(scale: Set(acc).count == 1 ? [acc[0]] : acc)
        }
        let accScale: [Double]
        if case let .accumulator(s) = start { accScale = s.count == 1 ? [Double](repeating: s[0], count: cout) : s } else { accScale = wScales.map(Double.init) }
        let plan = LinearPlan(name: builder.fresh("conv"), nodes: (pad != nil ? [graph.nodes.first { $0.outputs.contains(node.inputs[0]) }!.name] : []) + [node.name],
                              rows: rows, biases: biases, input: windows, accScale: accScale)
        let map = MapInfo(order: WindowLowering.channelsLast(outShape), channels: cout, positions: Array(outShape.dropFirst(2)))
        let p = Pending(linear: plan, sources: [], start: start, ops: ops, nodes: plan.nodes, count: cout, map: map.positions.reduce(1, *) > 1 ? map : nil)
        if let closing {
            let sy = graph.initializers[node.inputs[6]]!.data[0], zy = graph.initializers[node.inputs[7]]!.integerValues![0]
            let stream = try realize(p, closing, quant: .scale(Double(sy), zeroPoint: zy), integerSeen: true, at: node)
            values[node.outputs[0]] = .stream(stream)
            noteMap(node.outputs[0], stream.value, p.map)
        } else {
            values[node.outputs[0]] = .pending(p)
        }
    }

    /// MaxPool and GlobalMaxPool on the integers; AveragePool and GlobalAveragePool as an exact sum
    /// and a division in the next quantizer's epilogue.
    mutating func pool(_ node: Node) throws {
        let (x, shape, pad) = try windowInput(node)
        guard !x.integerSeen else { throw fail(node.name, "\(node.op.onnxName) of a QuantizeLinear output needs a DequantizeLinear first") }
        guard x.scales[0] > 0 else { throw fail(node.name, "a pool needs a positive scale") }
        let c = shape[1]
        let g = try state.windowGeometry(node, shape: shape, weight: nil, pad: pad)
        let outShape = state.shapes[node.outputs[0]] ?? [1, c] + g.output
        let (average, global) = try state.poolKind(node, g, folded: pad != nil)
        var source = x
        if !global {
            let padValue = average || pad != nil ? try state.padInteger(pad?.value ?? 0, x, at: node) : x.type.element.min
            if pad != nil && !average, case let .maxPool(p) = node.op, (p.pads ?? []).contains(where: { $0 > 0 }) {
                throw fail(node.name, "a Pad before a MaxPool that pads itself is not supported")
            }
            let window = WindowLowering.slidingWindow(x.type, channels: c, g, padValue: padValue)
            let wv = builder.add(builder.fresh("win"), sourceNodes: [node.name], kernel: window, inputs: [x.value], model: nil)
            source = QStream(value: wv, type: window.outputType)
        }
        let n = g.windowSize
        let positions = Array(outShape.dropFirst(2))
        let isVector = positions.reduce(1, *) == 1
        let map = isVector ? nil : MapInfo(order: WindowLowering.channelsLast(outShape), channels: c, positions: positions)
        let element = average ? PoolKernel.sumType(x.type.element, window: n) : x.type.element
        // The sum of n integers of zero point z is worth (Σq − n·z)·s.
        let quant: Quantization? = average ? .scale(Double(x.scales[0]), zeroPoint: n * x.zeroPoints[0]) : x.type.quant
        let outType = isVector ? TensorType.vector(element, c, quant: quant) : TensorType.map(element, positions: positions, channels: c, quant: quant)
        let k = PoolKernel(inputType: source.type, channels: c, window: n, reduction: average ? .sum : .max, outputType: outType)
        let pv = builder.add(builder.fresh("pool"), sourceNodes: [node.name], kernel: k, inputs: [source.value], model: average ? nil : node.outputs[0])
        let pooled = QStream(value: pv, type: outType)
        guard average else {
            values[node.outputs[0]] = .stream(pooled)
            noteMap(node.outputs[0], pv, map)
            return
        }
        values[node.outputs[0]] = .pending(Pending(linear: nil, sources: [pooled], start: .stream(scale: pooled.scales, zeroPoint: pooled.zeroPoints),
                                                   ops: [.div([Float(n)])], nodes: [node.name], count: c, map: map))
    }
}
