// What convolutions and pools share in both lowerings: the channels-last order of
// feature maps, the window geometry of a node (a Pad before it folded in), the
// sliding-window kernel, and a convolution weight as rows over the window.
import HardwareIR
import ModelGraph

enum WindowLowering {
    /// `order[m]`: the stream index of model element `m` of an `[1, C, spatial…]` tensor streamed channels-last.
    static func channelsLast(_ shape: [Int]) -> [Int] {
        guard shape.count >= 3 else { return Array(0..<shape.reduce(1, *)) }
        let c = shape[1], p = shape.dropFirst(2).reduce(1, *)
        return (0..<(c * p)).map { m in (m % p) * c + m / p }
    }

    /// The order `fact` sees, once the stream of its source has order `base` (nil: model order).
    static func compose(_ fact: [Int]?, over base: [Int]?) -> [Int]? {
        guard let base else { return fact }
        guard let fact else { return base }
        let o = fact.map { base[$0] }
        return o == Array(0..<o.count) ? nil : o
    }

    /// A Pad folded into the window op that reads it.
    struct FoldedPad {
        /// The value the Pad reads.
        var source: String
        /// Spatial pads, begins then ends.
        var pads: [Int]
        /// The constant it pads with.
        var value: Float
    }

    /// The spatial pads of a constant Pad of an `[1, C, spatial…]` tensor, or a reason it is not one.
    static func spatialPads(_ node: Node, _ graph: Graph, shape: [Int]) -> Result<FoldedPad, WindowGeometryError> {
        guard case let .pad(attrPads, attrValue) = node.op else { return .failure(.init("not a Pad")) }
        let pads: [Int]
        if let attrPads { pads = attrPads } else {
            guard let p = graph.initializers[node.inputs[1]]?.integerValues else { return .failure(.init("Pad's pads must be a constant")) }
            pads = p
        }
        if node.inputs.count > 3, !node.inputs[3].isEmpty { return .failure(.init("Pad with an axes input is not supported")) }
        var value: Float = attrValue ?? 0
        if attrValue == nil, node.inputs.count > 2, !node.inputs[2].isEmpty {
            guard let v = graph.initializers[node.inputs[2]]?.data.first else { return .failure(.init("Pad's value must be a constant")) }
            value = v
        }
        let r = shape.count
        guard pads.count == 2 * r, r >= 3, pads[0] == 0, pads[1] == 0, pads[r] == 0, pads[r + 1] == 0, pads.allSatisfy({ $0 >= 0 }) else {
            return .failure(.init("only non-negative padding of the spatial dimensions of an [N, C, …] tensor folds into a window"))
        }
        let s = r - 2
        return .success(FoldedPad(source: node.inputs[0], pads: Array(pads[2..<r]) + Array(pads[(r + 2)...]), value: value))
    }

    /// Geometry of a Conv or pool node over an input of `shape`, with `extra` pads (a folded Pad) added.
    static func geometry(_ node: Node, inputShape shape: [Int], weightShape: [Int]?, extraPads: [Int]?) -> Result<WindowGeometry, WindowGeometryError> {
        let spatial = Array(shape.dropFirst(2))
        var kernel: [Int], strides: [Int]?, pads: [Int]?, dilations: [Int]?, autoPad: String, ceil = false
        switch node.op {
        case let .conv(a), let .convInteger(a), let .qLinearConv(a):
            kernel = a.kernelShape ?? Array((weightShape ?? []).dropFirst(2))
            (strides, pads, dilations, autoPad) = (a.strides, a.pads, a.dilations, a.autoPad)
        case let .maxPool(p), let .averagePool(p, _):
            kernel = p.kernelShape
            (strides, pads, dilations, autoPad, ceil) = (p.strides, p.pads, p.dilations, p.autoPad, p.ceilMode)
        case .globalAveragePool, .globalMaxPool:
            kernel = spatial
            (strides, pads, dilations, autoPad) = (nil, nil, nil, "NOTSET")
        default:
            return .failure(.init("not a window op"))
        }
        if let extra = extraPads {
            guard autoPad == "NOTSET" else { return .failure(.init("a Pad before a window op with auto_pad is not supported")) }
            let own = pads ?? [Int](repeating: 0, count: 2 * spatial.count)
            pads = zip(own, extra).map { $0 + $1 }
        }
        return WindowGeometry.resolve(input: spatial, kernel: kernel, strides: strides, pads: pads, dilations: dilations, autoPad: autoPad,
                                      ceilMode: ceil)
    }

    /// The window generator for `geometry` over `input` (a `[H, W, C]` or `[W, C]` map stream).
    static func slidingWindow(_ input: TensorType, channels: Int, _ g: WindowGeometry, padValue: Int, groups: Int = 1) -> SlidingWindowKernel {
        let twoD = g.input.count == 2
        let h = twoD ? g.input[0] : 1, w = g.input[twoD ? 1 : 0]
        func pick(_ a: [Int], _ oneD: Int) -> (Int, Int) { twoD ? (a[0], a[1]) : (oneD, a[0]) }
        return SlidingWindowKernel(inputType: input, height: h, width: w, channels: channels, kernel: pick(g.kernel, 1), stride: pick(g.strides, 1),
                                   dilation: pick(g.dilations, 1), padTop: twoD ? g.padsBegin[0] : 0, padLeft: g.padsBegin[twoD ? 1 : 0],
                                   out: pick(g.output, 1), padValue: padValue, groups: groups, oneD: !twoD)
    }

    /// Whether a window reaches past the map's end (ONNX ceil-mode windows and end pads are fine; the
    /// generator reads padding there), as a check that the geometry is one the generator covers.
    static func covers(_ g: WindowGeometry) -> Bool {
        (0..<g.input.count).allSatisfy { d in (g.output[d] - 1) * g.strides[d] - g.padsBegin[d] < g.input[d] }
    }

    /// A convolution weight `[Cout, Cin/groups, k…]` (row-major data) as rows `[Cout][window]` over the
    /// generator's window order: `(ky, kx, c)`, or group by group when `groups > 1` (zero outside the group).
    static func convRows<T: Numeric>(_ w: [T], cout: Int, cin: Int, kernel: [Int], groups: Int) -> [[T]] {
        let kh = kernel.count == 2 ? kernel[0] : 1, kw = kernel[kernel.count - 1]
        let cg = cin / groups, coutG = cout / groups
        let window = kh * kw * cin
        return (0..<cout).map { o in
            var row = [T](repeating: 0, count: window)
            let g = o / coutG
            for c in 0..<cg {
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let v = w[((o * cg + c) * kh + ky) * kw + kx]
                        let e = groups == 1 ? (ky * kw + kx) * cin + c : g * (kh * kw * cg) + (ky * kw + kx) * cg + c
                        row[e] = v
                    }
                }
            }
            return row
        }
    }

    /// The `[1, C, spatial…]` shape of a window op's view of `value` when that view is channels-last in
    /// `value`'s own order (a Keras NHWC tensor behind a Transpose to NCHW), else nil.
    static func channelsLastView(of value: String, in graph: Graph, state: LoweringState) -> [Int]? {
        for node in graph.nodes {
            switch node.op {
            case .conv, .maxPool, .averagePool, .globalAveragePool, .globalMaxPool: break
            default: continue
            }
            var name = node.inputs[0]
            if let pad = graph.nodes.first(where: { $0.outputs.contains(name) }), case .pad = pad.op { name = pad.inputs[0] }
            let fact = state.resolve(name)
            guard fact.source == value, let shape = state.shapes[name], shape.count >= 3, let order = fact.order, order == channelsLast(shape) else { continue }
            return shape
        }
        return nil
    }

    /// Calibration vectors of a linear kernel that reads frames of `size` (the windows of a
    /// convolution): every frame of every vector, evenly thinned to at most 4096.
    static func frames(_ vectors: [[Int]], size: Int) -> [[Int]] {
        var frames: [[Int]] = []
        for v in vectors where v.count > size { for f in 0..<(v.count / size) { frames.append(Array(v[(f * size)..<((f + 1) * size)])) } }
        guard !frames.isEmpty else { return vectors }
        let step = max(1, frames.count / 4096)
        return stride(from: 0, to: frames.count, by: step).map { frames[$0] }
    }

    /// The model shape `[1, C, spatial…]` of a map stream value's positions (for its layout).
    static func mapType(_ element: ElementType, modelShape shape: [Int], quant: Quantization?) -> TensorType {
        .map(element, positions: Array(shape.dropFirst(2)), channels: shape[1], quant: quant)
    }
}

extension LoweringState {
    /// A constant Pad whose readers all satisfy `takesPadding` (the window ops of the
    /// pipeline, named `readers` in the error): its spatial pads, folded into theirs.
    func foldedPad(_ node: Node, readers: String, _ takesPadding: (Op) -> Bool) throws -> WindowLowering.FoldedPad {
        switch WindowLowering.spatialPads(node, graph, shape: shapes[node.inputs[0]] ?? []) {
        case let .failure(e): throw unsupported(node.name, e.reason)
        case let .success(p):
            let consumers = graph.consumers(of: node.outputs[0])
            guard !consumers.isEmpty, consumers.allSatisfy({ takesPadding($0.op) }) else {
                throw unsupported(node.name, "a Pad is supported only right before a \(readers), which take its padding")
            }
            return p
        }
    }

    /// The window geometry of a window op on a map of `shape` (with a folded Pad's pads), every
    /// window starting inside the padded map.
    func windowGeometry(_ node: Node, shape: [Int], weight: [Int]?, pad: WindowLowering.FoldedPad?) throws -> WindowGeometry {
        switch WindowLowering.geometry(node, inputShape: shape, weightShape: weight, extraPads: pad?.pads) {
        case let .failure(e): throw unsupported(node.name, e.reason)
        case let .success(g):
            guard WindowLowering.covers(g) else { throw unsupported(node.name, "a window starts beyond the map") }
            return g
        }
    }

    /// The integer a padding position of `x` reads: the real value `value` (0: the zero point) on its grid.
    func padInteger(_ value: Float, _ x: QStream, at node: Node) throws -> Int {
        let s = x.type.quant?.scales.first ?? 1, z = x.type.quant?.zeroPoints.first ?? 0
        let q = Double(value) / s
        guard q.rounded() == q, x.type.element.contains(Int(q) + z) else {
            throw unsupported(node.name, "the pad value \(value) is not on the input's integer grid (scale \(fmt(s)))")
        }
        return Int(q) + z
    }

    /// What a pool node computes: an average (a sum, then a division) or a max, over windows
    /// or the whole map. A padded AveragePool must count the padding (`count_include_pad = 1`).
    func poolKind(_ node: Node, _ g: WindowGeometry, folded: Bool) throws -> (average: Bool, global: Bool) {
        switch node.op {
        case .maxPool: return (false, false)
        case let .averagePool(_, include):
            if g.padded && !include && !folded {
                throw unsupported(node.name, "AveragePool with padding and count_include_pad = 0 divides border windows by fewer elements; LUTForge supports count_include_pad = 1 or no padding")
            }
            return (true, false)
        case .globalAveragePool: return (true, true)
        default: return (false, true)
        }
    }
}
