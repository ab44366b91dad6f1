// Convolutions and pools of float models: a sliding-window generator feeding the
// layer's DSP-chain or LUT-linear kernel (one window per frame), or a pool kernel
// (a max, or a sum and a requantizer for an average); feature maps streamed
// channels-last (docs/numerics.md, "Sliding windows", "Pools").
import HardwareIR
import ModelGraph
import Quantize

extension FloatLowering {
    /// A constant Pad whose readers are all window ops: folded into their padding.
    mutating func foldPad(_ node: Node) throws {
        foldedPads[node.outputs[0]] = try state.foldedPad(node, readers: "Conv, MaxPool or AveragePool") {
            switch $0 { case .conv, .maxPool, .averagePool: true; default: false }
        }
    }

    /// The map a window op reads: its stream (channels-last), model shape and a folded Pad.
    mutating func windowInput(_ node: Node) throws -> (QStream, shape: [Int], pad: WindowLowering.FoldedPad?) {
        var name = node.inputs[0]
        let pad = foldedPads[name]
        if let pad { name = pad.source }
        let shape = state.shapes[name] ?? []
        guard (3...4).contains(shape.count), shape[0] == 1 else {
            throw fail(node.name, "\(node.op.onnxName) needs a [1, C, W] or [1, C, H, W] input, got \(shape)")
        }
        let fact = state.resolve(name)
        guard let s = streams[fact.source] else { throw fail(node.name, "input '\(name)' is not computed by a supported node") }
        let order = WindowLowering.compose(fact.order, over: orders[fact.source])
        guard order == WindowLowering.channelsLast(shape) else {
            if fact.source == graph.inputs[0].name && !channelsLastInput && order == nil { throw NeedsChannelsLastInput() }
            throw fail(node.name, "input '\(name)' is not streamed channels-last (a Transpose LUTForge cannot follow)")
        }
        return (s, shape, pad)
    }

    /// Conv: a window generator, then the layer's kernel on every window.
    mutating func conv(_ node: Node) throws {
        guard case let .conv(a) = node.op else { return }
        guard let w = graph.initializers[node.inputs[1]] else {
            throw fail(node.name, "input 1 must be a constant initializer (LUTForge compiles fixed weights)")
        }
        let (x, shape, pad) = try windowInput(node)
        let cin = shape[1], cout = w.shape[0], groups = a.group
        guard groups >= 1, cin % groups == 0, cout % groups == 0, w.shape.count == shape.count, w.shape[1] * groups == cin else {
            throw fail(node.name, "weight \(w.shape) and group \(groups) do not fit \(cin) input channels")
        }
        let g = try state.windowGeometry(node, shape: shape, weight: w.shape, pad: pad)
        let padValue = try state.padInteger(pad?.value ?? 0, x, at: node)
        let window = WindowLowering.slidingWindow(x.type, channels: cin, g, padValue: padValue, groups: groups)
        let wv = builder.add(builder.fresh("win"), sourceNodes: [node.name], kernel: window, inputs: [x.value], model: nil)
        let windows = QStream(value: wv, type: window.outputType)
        let rows = WindowLowering.convRows(w.data, cout: cout, cin: cin, kernel: Array(w.shape.dropFirst(2)), groups: groups)
        var bias = [Float](repeating: 0, count: cout)
        if node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let b = graph.initializers[node.inputs[2]], b.count == cout else { throw fail(node.name, "the bias must be a constant of \(cout) values") }
            bias = b.data
        }
        var nodes = [node.name]
        if let p = pad, let padNode = graph.nodes.first(where: { $0.outputs.contains(node.inputs[0]) }), p.source != node.inputs[0] { nodes.insert(padNode.name, at: 0) }
        var value = node.outputs[0]
        let outShape = state.shapes[value] ?? [1, cout] + g.output
        // A per-channel bias added after the convolution (older exports) joins the conv's own.
        if let add = soleReader(value), case .add = add.op, let ci = add.inputs.firstIndex(where: { graph.initializers[$0] != nil }),
           let b = graph.initializers[add.inputs[ci]], b.count == cout, b.rank <= outShape.count,
           ([Int](repeating: 1, count: outShape.count - b.rank) + b.shape).enumerated().allSatisfy({ d, n in n == 1 || (d == 1 && n == cout) }) {
            bias = zip(bias, b.data).map { $0 + $1 }
            nodes.append(add.name)
            consumed.insert(add.name)
            value = add.outputs[0]
        }
        try emitLinear(node, x: windows, rows: rows, bias: bias, value: value, nodes: nodes, prefix: "conv",
                       order: WindowLowering.channelsLast(outShape), shape: outShape)
    }

    /// MaxPool, AveragePool and the global pools.
    mutating func pool(_ node: Node) throws {
        let (x, shape, pad) = try windowInput(node)
        let c = shape[1]
        let g = try state.windowGeometry(node, shape: shape, weight: nil, pad: pad)
        let outShape = state.shapes[node.outputs[0]] ?? [1, c] + g.output
        let (average, global) = try state.poolKind(node, g, folded: pad != nil)
        var source = x
        var nodes = [node.name]
        if !global {
            // Padding is the real value 0 for an average (or a folded Pad's value), and never wins a max.
            let padValue = average || pad != nil ? try state.padInteger(pad?.value ?? 0, x, at: node) : x.type.element.min
            let window = WindowLowering.slidingWindow(x.type, channels: c, g, padValue: padValue)
            let wv = builder.add(builder.fresh("win"), sourceNodes: [node.name], kernel: window, inputs: [x.value], model: nil)
            source = QStream(value: wv, type: window.outputType)
        }
        if let p = pad, let padNode = graph.nodes.first(where: { $0.outputs.contains(node.inputs[0]) }), p.source != node.inputs[0] { nodes.insert(padNode.name, at: 0) }
        let elements = g.windowSize
        let positions = Array(outShape.dropFirst(2))
        let outOrder = WindowLowering.channelsLast(outShape)
        let isVector = positions.reduce(1, *) == 1
        let reduction: PoolKernel.Reduction = average ? .sum : .max
        let element = average ? PoolKernel.sumType(x.type.element, window: elements) : x.type.element
        let quant = x.type.quant
        let outType = isVector ? TensorType.vector(element, c, quant: quant) : TensorType.map(element, positions: positions, channels: c, quant: quant)
        let k = PoolKernel(inputType: source.type, channels: c, window: elements, reduction: reduction, outputType: outType)
        let layout = isVector ? nil : layout(outOrder, shape: outShape)
        let pv = builder.add(builder.fresh("pool"), sourceNodes: nodes, kernel: k, inputs: [source.value], model: average ? nil : node.outputs[0],
                             layout: average ? nil : layout)
        let pooled = QStream(value: pv, type: outType)
        guard average else {
            streams[node.outputs[0]] = pooled
            if !isVector { orders[node.outputs[0]] = outOrder }
            return
        }
        // The average: the exact sum divided by the window, requantized to the output's calibrated type.
        let s = quant?.scales.first ?? 1
        try emitElementwise(node, inputs: [pooled], ratios: [[s / Double(elements)]], offsets: [], value: node.outputs[0], nodes: nodes,
                            order: isVector ? nil : outOrder, shape: outShape)
    }
}
