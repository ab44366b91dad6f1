// Window ops of the float interpreter: Conv (1-D and 2-D, groups, pads, strides,
// dilations), ConvInteger and QLinearConv, MaxPool, AveragePool, the global pools
// and Pad, on NCHW (NCW) tensors at batch 1, as ONNX defines them. Products are
// accumulated exactly and rounded once to float32, as for matrix products.
import Foundation
import ModelGraph

extension FloatInterpreter {
    /// The `[C, H, W]` view of an `[1, C, spatial…]` tensor with one or two spatial dimensions.
    struct Planes {
        var channels: Int
        var height: Int
        var width: Int
        /// The spatial rank (1 or 2).
        var rank: Int

        init(_ shape: [Int], _ node: Node) throws {
            guard (3...4).contains(shape.count), shape[0] == 1 else {
                throw FloatInterpreterError(node: node.name, reason: "\(node.op.onnxName) needs a [1, C, W] or [1, C, H, W] input, got \(shape)")
            }
            channels = shape[1]
            rank = shape.count - 2
            height = rank == 2 ? shape[2] : 1
            width = shape[shape.count - 1]
        }

        var spatial: [Int] { rank == 2 ? [height, width] : [width] }
        func shape(channels c: Int, spatial s: [Int]) -> [Int] { [1, c] + s }
    }

    /// The geometry of a window op over `planes`, as 2-D (a 1-D op has height 1 and a 1×1 extent there).
    static func geometry(_ planes: Planes, kernel: [Int], strides: [Int]?, pads: [Int]?, dilations: [Int]?, autoPad: String,
                         ceilMode: Bool = false, _ node: Node) throws -> WindowGeometry {
        switch WindowGeometry.resolve(input: planes.spatial, kernel: kernel, strides: strides, pads: pads, dilations: dilations,
                                      autoPad: autoPad, ceilMode: ceilMode) {
        case let .success(g): return g
        case let .failure(e): throw FloatInterpreterError(node: node.name, reason: e.reason)
        }
    }

    /// `(kh, kw, sh, sw, dh, dw, ph, pw, oh, ow)` of a geometry, 1-D ones lifted to 2-D.
    static func twoD(_ g: WindowGeometry) -> (kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, ph: Int, pw: Int, oh: Int, ow: Int) {
        if g.input.count == 1 {
            return (1, g.kernel[0], 1, g.strides[0], 1, g.dilations[0], 0, g.padsBegin[0], 1, g.output[0])
        }
        return (g.kernel[0], g.kernel[1], g.strides[0], g.strides[1], g.dilations[0], g.dilations[1], g.padsBegin[0], g.padsBegin[1],
                g.output[0], g.output[1])
    }

    /// Resolves a convolution's geometry, checking the weight's shape and the groups.
    static func convGeometry(_ x: FloatTensor, _ w: FloatTensor, _ a: ConvAttributes, _ node: Node) throws -> (Planes, WindowGeometry, cout: Int) {
        let planes = try Planes(x.shape, node)
        guard w.rank == x.rank else { throw FloatInterpreterError(node: node.name, reason: "weight of shape \(w.shape) for an input of shape \(x.shape)") }
        let kernel = a.kernelShape ?? Array(w.shape.dropFirst(2))
        guard kernel == Array(w.shape.dropFirst(2)) else { throw FloatInterpreterError(node: node.name, reason: "kernel_shape \(kernel) differs from the weight's \(w.shape)") }
        let g = a.group
        guard g >= 1, planes.channels % g == 0, w.shape[0] % g == 0, w.shape[1] * g == planes.channels else {
            throw FloatInterpreterError(node: node.name, reason: "group \(g) does not fit \(planes.channels) input and \(w.shape[0]) output channels (weight \(w.shape))")
        }
        let geo = try geometry(planes, kernel: kernel, strides: a.strides, pads: a.pads, dilations: a.dilations, autoPad: a.autoPad, node)
        return (planes, geo, w.shape[0])
    }

    /// `Σ w · x` over each output position's window, exactly (`value(c, y, x)` is the padded input,
    /// `weight(o, c', ky, kx)` the kernel); `f` turns each exact sum into the output element.
    static func convolve<T>(_ planes: Planes, _ geo: WindowGeometry, cout: Int, group: Int, input: (Int, Int) -> Double,
                            weight: (Int, Int) -> Double, _ f: (Int, Double) -> T) -> [T] {
        let (kh, kw, sh, sw, dh, dw, ph, pw, oh, ow) = twoD(geo)
        let cinG = planes.channels / group, coutG = cout / group
        let h = planes.height, wd = planes.width
        var out: [T] = []
        out.reserveCapacity(cout * oh * ow)
        for o in 0..<cout {
            let g = o / coutG
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var s = 0.0
                    for cc in 0..<cinG {
                        let c = g * cinG + cc
                        for ky in 0..<kh {
                            let iy = oy * sh - ph + ky * dh
                            guard iy >= 0, iy < h else { continue }
                            for kx in 0..<kw {
                                let ix = ox * sw - pw + kx * dw
                                guard ix >= 0, ix < wd else { continue }
                                s += weight(o, (cc * kh + ky) * kw + kx) * input(c, iy * wd + ix)
                            }
                        }
                    }
                    out.append(f(o, s))
                }
            }
        }
        return out
    }

    static func conv(_ x: FloatTensor, _ w: FloatTensor, _ b: FloatTensor?, _ a: ConvAttributes, _ node: Node) throws -> FloatTensor {
        let (planes, geo, cout) = try convGeometry(x, w, a, node)
        if let b { guard b.count == cout else { throw FloatInterpreterError(node: node.name, reason: "bias of \(b.count) values for \(cout) output channels") } }
        let hw = planes.height * planes.width, k = w.count / cout
        let xd = x.data, wdata = w.data
        let data = convolve(planes, geo, cout: cout, group: a.group, input: { Double(xd[$0 * hw + $1]) }, weight: { Double(wdata[$0 * k + $1]) }) { o, s in
            Float(s) + (b?.data[o] ?? 0)
        }
        return FloatTensor(shape: planes.shape(channels: cout, spatial: geo.output), data: data)
    }

    /// ConvInteger (`bias` nil) and the integer accumulator of QLinearConv: `Σ (x − zx)(w − zw[o]) (+ bias[o])`.
    static func integerConv(_ x: FloatTensor, _ w: FloatTensor, zx: [Int], zw: [Int], bias: [Int]?, _ a: ConvAttributes, _ node: Node) throws -> (FloatTensor, WindowGeometry) {
        let (planes, geo, cout) = try convGeometry(x, w, a, node)
        let xv = try ints(x, node), wv = try ints(w, node)
        guard zx.count == 1 else { throw FloatInterpreterError(node: node.name, reason: "the input zero point must be a scalar") }
        guard zw.count == 1 || zw.count == cout else { throw FloatInterpreterError(node: node.name, reason: "\(zw.count) weight zero points for \(cout) output channels") }
        let hw = planes.height * planes.width, k = w.count / cout
        // Padding is the real value 0: the input zero point, which contributes nothing after the subtraction.
        let data = convolve(planes, geo, cout: cout, group: a.group, input: { Double(xv[$0 * hw + $1] - zx[0]) },
                            weight: { o, i in Double(wv[o * k + i] - (zw.count == 1 ? zw[0] : zw[o])) }) { o, s in Int(s) + (bias?[o] ?? 0) }
        return (FloatTensor(shape: planes.shape(channels: cout, spatial: geo.output), ints: data, dtype: .int32), geo)
    }

    /// MaxPool, AveragePool and the global pools.
    static func pool(_ x: FloatTensor, _ node: Node) throws -> FloatTensor {
        let planes = try Planes(x.shape, node)
        let geo: WindowGeometry
        var average = false, includePad = false
        switch node.op {
        case let .maxPool(p):
            geo = try geometry(planes, kernel: p.kernelShape, strides: p.strides, pads: p.pads, dilations: p.dilations, autoPad: p.autoPad,
                               ceilMode: p.ceilMode, node)
        case let .averagePool(p, include):
            geo = try geometry(planes, kernel: p.kernelShape, strides: p.strides, pads: p.pads, dilations: p.dilations, autoPad: p.autoPad,
                               ceilMode: p.ceilMode, node)
            average = true
            includePad = include
        case .globalAveragePool, .globalMaxPool:
            geo = try geometry(planes, kernel: planes.spatial, strides: nil, pads: nil, dilations: nil, autoPad: "NOTSET", node)
            average = node.op == .globalAveragePool
        default: preconditionFailure("not a pool")
        }
        let (kh, kw, sh, sw, dh, dw, ph, pw, oh, ow) = twoD(geo)
        let h = planes.height, wd = planes.width, hw = h * wd
        var data: [Float] = []
        data.reserveCapacity(planes.channels * oh * ow)
        for c in 0..<planes.channels {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var m = -Float.infinity, s = 0.0, n = 0
                    for ky in 0..<kh {
                        let iy = oy * sh - ph + ky * dh
                        for kx in 0..<kw {
                            let ix = ox * sw - pw + kx * dw
                            guard iy >= 0, iy < h, ix >= 0, ix < wd else { continue }
                            let v = x.data[c * hw + iy * wd + ix]
                            m = max(m, v)
                            s += Double(v)
                            n += 1
                        }
                    }
                    data.append(average ? Float(s) / Float(includePad ? kh * kw : n) : m)
                }
            }
        }
        return FloatTensor(shape: planes.shape(channels: planes.channels, spatial: geo.output), data: data)
    }

    /// Pad in constant mode: `pads` = begins then ends, one per axis.
    static func pad(_ x: FloatTensor, pads: [Int], value: Float, _ node: Node) throws -> FloatTensor {
        let r = x.rank
        guard pads.count == 2 * r, pads.allSatisfy({ $0 >= 0 }) else {
            throw FloatInterpreterError(node: node.name, reason: "pads \(pads) do not fit a rank-\(r) input (negative pads are not supported)")
        }
        let shape = (0..<r).map { x.shape[$0] + pads[$0] + pads[r + $0] }
        let inStrides = strides(x.shape), outStrides = strides(shape)
        let count = shape.reduce(1, *)
        var data = [Float](repeating: value, count: count)
        var ints: [Int]? = x.ints.map { _ in [Int](repeating: Int(value), count: count) }
        for i in 0..<x.count {
            var at = 0
            for d in 0..<r { at += ((i / inStrides[d]) % x.shape[d] + pads[d]) * outStrides[d] }
            data[at] = x.data[i]
            if let xi = x.ints { ints![at] = xi[i] }
        }
        if let ints { return FloatTensor(shape: shape, ints: ints, dtype: x.dtype) }
        return FloatTensor(shape: shape, data: data)
    }

    /// The window ops' cases of `apply`.
    static func applyWindow(_ node: Node, _ args: [FloatTensor?]) throws -> FloatTensor {
        let x = try arg(args, 0, node)
        switch node.op {
        case let .conv(a):
            return try conv(x, try arg(args, 1, node), args.count > 2 ? args[2] : nil, a, node)
        case let .convInteger(a):
            let zx = try args.count > 2 ? args[2].map { try ints($0, node) } ?? [0] : [0]
            let zw = try args.count > 3 ? args[3].map { try ints($0, node) } ?? [0] : [0]
            return try integerConv(x, try arg(args, 1, node), zx: zx, zw: zw, bias: nil, a, node).0
        case let .qLinearConv(a):
            let (sx, zx, w, sw, zw, sy, zy) = (try arg(args, 1, node), try arg(args, 2, node), try arg(args, 3, node), try arg(args, 4, node),
                                              try arg(args, 5, node), try arg(args, 6, node), try arg(args, 7, node))
            let bias = try args.count > 8 ? args[8].map { try ints($0, node) } : nil
            let (acc, _) = try integerConv(x, w, zx: try ints(zx, node), zw: try ints(zw, node), bias: bias, a, node)
            guard let range = zy.dtype.integerRange else { throw FloatInterpreterError(node: node.name, reason: "output zero point must be an integer tensor") }
            let cout = acc.shape[1], per = acc.count / cout
            let zyv = try ints(zy, node)
            return FloatTensor(shape: acc.shape, ints: acc.ints!.enumerated().map { i, v in
                let o = i / per
                let m = sx.data[0] * sw.data[sw.count == 1 ? 0 : o] / sy.data[0]
                return QuantArith.requantizeORT(v, multiplier: m, zeroPoint: zyv[0], range: range)
            }, dtype: zy.dtype)
        case .maxPool, .averagePool, .globalAveragePool, .globalMaxPool:
            return try pool(x, node)
        case let .pad(attrPads, attrValue):
            let pads = try attrPads ?? ints(try arg(args, 1, node), node)
            if args.count > 3, args[3] != nil { throw FloatInterpreterError(node: node.name, reason: "Pad with an axes input is not supported") }
            let value = attrValue ?? (args.count > 2 ? args[2]?.data.first : nil) ?? 0
            return try pad(x, pads: pads, value: value, node)
        default:
            preconditionFailure("not a window op")
        }
    }
}
