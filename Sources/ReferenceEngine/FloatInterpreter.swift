// Float32 interpreter of a ModelGraph at batch 1: the accuracy reference that
// quantized results are compared with, the calibration source, and the semantics
// of QONNX's and ONNX's quantizers as their reference executors compute them
// (docs/numerics.md, "Quantized models"). Matrix products accumulate exactly
// (in double) and round once to float32: the value the hardware's exact integer
// accumulation represents. Elementwise ops are IEEE float32, op by op.
import Foundation
import ModelGraph

/// Why the float interpreter could not run a node.
public struct FloatInterpreterError: Error, CustomStringConvertible, Equatable {
    /// The node.
    public var node: String
    /// The reason.
    public var reason: String

    /// Creates an error.
    public init(node: String, reason: String) {
        self.node = node
        self.reason = reason
    }

    public var description: String { "node '\(node)': \(reason)" }
}

/// Scalar arithmetic of the quantizers, shared by the interpreter and by Lowering's
/// compile-time enumeration so both compute the same float32 values.
public enum QuantArith {
    /// `min_int(signed, narrow, bits)` of QONNX.
    public static func minInt(signed: Bool, narrow: Bool, bits: Int) -> Int {
        signed ? -(1 << (bits - 1)) + (narrow ? 1 : 0) : 0
    }

    /// `max_int(signed, narrow, bits)` of QONNX.
    public static func maxInt(signed: Bool, narrow: Bool, bits: Int) -> Int {
        signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1 - (narrow ? 1 : 0)
    }

    /// QONNX `int_quant` up to the integer: `round(clamp(x / s + z))`, in float32 as numpy computes it
    /// (1-bit signed quantizers take the sign, as QONNX 1.0 does).
    @inline(__always)
    public static func quantInteger(_ x: Float, scale: Float, zeroPoint: Float, bits: Int, signed: Bool, narrow: Bool,
                                    rounding: RoundingMode) -> Float {
        var y = x / scale
        y = y + zeroPoint
        if bits == 1 && signed { return y >= 0 ? 1 : -1 }
        let lo = Float(minInt(signed: signed, narrow: narrow, bits: bits)), hi = Float(maxInt(signed: signed, narrow: narrow, bits: bits))
        if y > hi { y = hi }
        if y < lo { y = lo }
        return rounding.apply(y)
    }

    /// QONNX `int_quant`: the integer, minus the zero point, times the scale (float32).
    @inline(__always)
    public static func quant(_ x: Float, scale: Float, zeroPoint: Float, bits: Int, signed: Bool, narrow: Bool, rounding: RoundingMode) -> Float {
        (quantInteger(x, scale: scale, zeroPoint: zeroPoint, bits: bits, signed: signed, narrow: narrow, rounding: rounding) - zeroPoint) * scale
    }

    /// QONNX `binary_quant`: `±1 · scale`, 0 counting as positive.
    @inline(__always)
    public static func bipolar(_ x: Float, scale: Float) -> Float { (x >= 0 ? 1 : -1) * scale }

    /// QONNX `trunc_v1`/`trunc_v2` (`outputScale` nil for version 1).
    public static func trunc(_ x: Float, scale: Float, zeroPoint: Float, inputBits: Float, outputBits: Float, outputScale: Float?,
                             signed: Bool, narrow: Bool, rounding: RoundingMode) -> Float {
        var y = x / scale
        y = y + zeroPoint
        y = y.rounded(.toNearestOrEven)
        if let outputScale {
            // trunc_scale = 2 ** round(log2(output_scale / scale)), in float32.
            let truncScale = Float(pow(2, Double((Float(log2(Double(outputScale / scale)))).rounded(.toNearestOrEven))))
            y = y / truncScale
            let bits = Int(outputBits)
            let lo = Float(minInt(signed: signed, narrow: narrow, bits: bits)), hi = Float(maxInt(signed: signed, narrow: narrow, bits: bits))
            if y > hi { y = hi }
            if y < lo { y = lo }
            y = rounding.apply(y)
            let outZero = zeroPoint / truncScale
            return (y - outZero) * outputScale
        }
        let truncScale = Float(pow(2, Double(inputBits - outputBits)))
        y = y / truncScale
        y = rounding.apply(y)
        return (y - zeroPoint) * scale
    }

    /// ONNX `QuantizeLinear` as onnxruntime computes it: `clamp(round_half_even(x / s) + z)`.
    @inline(__always)
    public static func quantizeLinear(_ x: Float, scale: Float, zeroPoint: Int, range: ClosedRange<Int>) -> Int {
        let q = (x / scale).rounded(.toNearestOrEven)
        guard q.isFinite else { return q > 0 ? range.upperBound : range.lowerBound }
        let v = Double(q) + Double(zeroPoint)
        return Int(Swift.min(Swift.max(v, Double(range.lowerBound)), Double(range.upperBound)))
    }

    /// onnxruntime's requantization of an integer accumulator (QLinearMatMul, QGemm):
    /// `clamp(round_half_even(float(acc) · m) + z)` with `m = fl(fl(s_a · s_b) / s_y)`.
    @inline(__always)
    public static func requantizeORT(_ acc: Int, multiplier m: Float, zeroPoint: Int, range: ClosedRange<Int>) -> Int {
        var f = Float(acc) * m
        let lo = Float(range.lowerBound - zeroPoint), hi = Float(range.upperBound - zeroPoint)
        f = Swift.max(f, lo)
        f = Swift.min(f, hi)
        return Int(f.rounded(.toNearestOrEven)) + zeroPoint
    }

    /// The float32 batch-norm coefficients onnxruntime uses: `x · ns + nb` with
    /// `ns = (1 / sqrt(var + eps)) · gamma`, `nb = beta − mean · ns`.
    public static func batchNormCoefficients(gamma: Float, beta: Float, mean: Float, variance: Float, epsilon: Float) -> (scale: Float, bias: Float) {
        let inv = 1 / (variance + epsilon).squareRoot()
        let ns = inv * gamma
        return (ns, beta - mean * ns)
    }
}

/// Runs graphs in float32, the way ONNX and QONNX define them.
public enum FloatInterpreter {
    /// Every value the graph defines (inputs, initializers, node outputs) for one input.
    public static func evaluate(_ graph: Graph, input: [Float]) throws -> [String: FloatTensor] {
        guard let info = graph.inputs.first else { throw FloatInterpreterError(node: "graph", reason: "no input") }
        var shape = info.shape.map { $0 ?? 1 }
        if shape.reduce(1, *) != input.count { shape = [1, input.count] }
        var env = graph.initializers
        var x = FloatTensor(shape: shape, data: input)
        if info.dtype.isInteger { x = FloatTensor(shape: shape, ints: input.map { Int($0) }, dtype: info.dtype) }
        env[info.name] = x
        for node in graph.nodes {
            let args = node.inputs.map { $0.isEmpty ? nil : env[$0] }
            let results = try apply(node, args, opset: graph.opsets[""] ?? 13)
            for (name, t) in zip(node.outputs, results) where !name.isEmpty { env[name] = t }
        }
        return env
    }

    /// The graph's first output, flattened, for one input.
    public static func run(_ graph: Graph, input: [Float]) throws -> [Float] {
        try evaluate(graph, input: input)[graph.outputs[0].name]!.data
    }

    // MARK: shapes and broadcasting

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = [Int](repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// Numpy broadcast shape of two shapes, or nil.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let n = max(a.count, b.count)
        var out = [Int](repeating: 1, count: n)
        for i in 0..<n {
            let da = i < n - a.count ? 1 : a[i - (n - a.count)], db = i < n - b.count ? 1 : b[i - (n - b.count)]
            guard da == db || da == 1 || db == 1 else { return nil }
            out[i] = max(da, db)
        }
        return out
    }

    /// For each element of `shape`, the index into a tensor of `source` shape broadcast to it.
    public static func broadcastIndices(_ source: [Int], to shape: [Int]) -> [Int] {
        let count = shape.reduce(1, *)
        if source == shape { return Array(0..<count) }
        let pad = shape.count - source.count
        let full = [Int](repeating: 1, count: pad) + source
        let srcStrides = strides(full)
        let outStrides = strides(shape)
        return (0..<count).map { i in
            var rest = i, at = 0
            for d in 0..<shape.count {
                let coord = rest / outStrides[d]
                rest %= outStrides[d]
                if full[d] != 1 { at += coord * srcStrides[d] }
            }
            return at
        }
    }

    static func binary(_ a: FloatTensor, _ b: FloatTensor, _ node: Node, _ f: (Float, Float) -> Float) throws -> FloatTensor {
        guard let shape = broadcastShape(a.shape, b.shape) else {
            throw FloatInterpreterError(node: node.name, reason: "shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let ia = broadcastIndices(a.shape, to: shape), ib = broadcastIndices(b.shape, to: shape)
        return FloatTensor(shape: shape, data: zip(ia, ib).map { f(a.data[$0], b.data[$1]) })
    }

    static func normalize(_ axis: Int, rank: Int, _ node: Node) throws -> Int {
        let a = axis < 0 ? axis + rank : axis
        guard a >= 0, a < max(rank, 1) else { throw FloatInterpreterError(node: node.name, reason: "axis \(axis) out of range for rank \(rank)") }
        return a
    }

    /// `t` with its dimensions permuted.
    public static func transpose(_ t: FloatTensor, perm: [Int]) -> FloatTensor {
        let shape = perm.map { t.shape[$0] }
        let inStrides = strides(t.shape), outStrides = strides(shape)
        var order = [Int](repeating: 0, count: t.count)
        for i in 0..<t.count {
            var rest = i, at = 0
            for d in 0..<shape.count {
                let coord = rest / outStrides[d]
                rest %= outStrides[d]
                at += coord * inStrides[perm[d]]
            }
            order[i] = at
        }
        var out = FloatTensor(shape: shape, data: order.map { t.data[$0] })
        if let ints = t.ints { out = FloatTensor(shape: shape, ints: order.map { ints[$0] }, dtype: t.dtype) }
        return out
    }

    static func reshaped(_ t: FloatTensor, _ shape: [Int]) -> FloatTensor {
        var out = t
        out.shape = shape
        return out
    }

    // MARK: products

    /// `[M, K] × [K, N]` with exact accumulation, rounded once to float32.
    static func product(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var out = [Float](repeating: 0, count: m * n)
        for r in 0..<m {
            for c in 0..<n {
                var s = 0.0
                for i in 0..<k { s += Double(a[r * k + i]) * Double(b[i * n + c]) }
                out[r * n + c] = Float(s)
            }
        }
        return out
    }

    static func matMul(_ a: FloatTensor, _ b: FloatTensor, _ node: Node) throws -> FloatTensor {
        // numpy semantics for a rank ≥ 1 activation and a rank-2 (or rank-1) weight.
        let aShape = a.rank == 1 ? [1] + a.shape : a.shape
        let bShape = b.rank == 1 ? b.shape + [1] : b.shape
        guard bShape.count == 2 || bShape.dropLast(2) == aShape.dropLast(2) else {
            throw FloatInterpreterError(node: node.name, reason: "MatMul of shapes \(a.shape) and \(b.shape) is not supported")
        }
        let k = aShape.last!, n = bShape.last!
        guard bShape[bShape.count - 2] == k else {
            throw FloatInterpreterError(node: node.name, reason: "weight expects \(bShape[bShape.count - 2]) inputs but receives \(k)")
        }
        let m = aShape[aShape.count - 2], batch = aShape.dropLast(2).reduce(1, *)
        var data: [Float] = []
        for bi in 0..<batch {
            let aa = Array(a.data[(bi * m * k)..<((bi + 1) * m * k)])
            let bb = bShape.count == 2 ? b.data : Array(b.data[(bi * k * n)..<((bi + 1) * k * n)])
            data += product(aa, bb, m: m, k: k, n: n)
        }
        var shape = Array(aShape.dropLast(2)) + [m, n]
        if a.rank == 1 { shape.remove(at: shape.count - 2) }
        if b.rank == 1 { shape.removeLast() }
        return FloatTensor(shape: shape, data: data)
    }

    static func gemm(_ a: FloatTensor, _ b: FloatTensor, _ c: FloatTensor?, alpha: Float, beta: Float, transA: Bool, transB: Bool, _ node: Node) throws -> FloatTensor {
        func matrix(_ t: FloatTensor) throws -> FloatTensor {
            switch t.rank {
            case 1: return reshaped(t, [1, t.shape[0]])
            case 2: return t
            default: throw FloatInterpreterError(node: node.name, reason: "Gemm operands must be 2-D, got shape \(t.shape)")
            }
        }
        var aa = try matrix(a), bb = try matrix(b)
        if transA { aa = transpose(aa, perm: [1, 0]) }
        if transB { bb = transpose(bb, perm: [1, 0]) }
        guard aa.shape[1] == bb.shape[0] else { throw FloatInterpreterError(node: node.name, reason: "weight expects \(bb.shape[0]) inputs but receives \(aa.shape[1])") }
        var y = FloatTensor(shape: [aa.shape[0], bb.shape[1]], data: product(aa.data, bb.data, m: aa.shape[0], k: aa.shape[1], n: bb.shape[1]))
        if alpha != 1 { y.data = y.data.map { alpha * $0 } }
        guard let c else { return y }
        return try binary(y, c, node) { $0 + beta * $1 }
    }

    // MARK: nodes

    static func arg(_ args: [FloatTensor?], _ i: Int, _ node: Node) throws -> FloatTensor {
        guard i < args.count, let t = args[i] else { throw FloatInterpreterError(node: node.name, reason: "missing input \(i)") }
        return t
    }

    static func ints(_ t: FloatTensor, _ node: Node) throws -> [Int] {
        guard let v = t.integerValues else { throw FloatInterpreterError(node: node.name, reason: "expected an integer tensor") }
        return v
    }

    /// Per-channel scalar parameter `p` broadcast along `axis` of `shape` (ONNX per-axis quantizers).
    static func perAxis(_ p: FloatTensor, shape: [Int], axis: Int, _ node: Node) throws -> (Int) -> Int {
        if p.count == 1 { return { _ in 0 } }
        let a = try normalize(axis, rank: shape.count, node)
        guard p.count == shape[a] else { throw FloatInterpreterError(node: node.name, reason: "\(p.count) per-axis parameters for axis of size \(shape[a])") }
        let st = strides(shape)
        return { i in (i / st[a]) % shape[a] }
    }

    /// The outputs of `node` for its input tensors.
    public static func apply(_ node: Node, _ args: [FloatTensor?], opset: Int) throws -> [FloatTensor] {
        let x = try arg(args, 0, node)
        func one(_ t: FloatTensor) -> [FloatTensor] { [t] }
        func map(_ f: (Float) -> Float) -> [FloatTensor] { [FloatTensor(shape: x.shape, data: x.data.map(f))] }
        switch node.op {
        case let .gemm(alpha, beta, transA, transB):
            return one(try gemm(x, try arg(args, 1, node), args.count > 2 ? args[2] : nil, alpha: alpha, beta: beta, transA: transA, transB: transB, node))
        case .matMul:
            return one(try matMul(x, try arg(args, 1, node), node))
        case .add: return one(try binary(x, try arg(args, 1, node), node, +))
        case .sub: return one(try binary(x, try arg(args, 1, node), node, -))
        case .mul: return one(try binary(x, try arg(args, 1, node), node, *))
        case .div: return one(try binary(x, try arg(args, 1, node), node, /))
        case .relu: return map { max($0, 0) }
        case .sigmoid: return map { 1 / (1 + exp(-$0)) }
        case let .clip(lo, hi):
            let l = lo ?? (args.count > 1 ? args[1]?.data.first : nil) ?? -.infinity
            let h = hi ?? (args.count > 2 ? args[2]?.data.first : nil) ?? .infinity
            return map { min(max($0, l), h) }
        case .identity: return one(x)
        case let .flatten(axis):
            let a = axis < 0 ? axis + x.rank : axis
            guard a >= 0, a <= x.rank else { throw FloatInterpreterError(node: node.name, reason: "axis \(axis) out of range") }
            return one(reshaped(x, [x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)]))
        case let .softmax(axis):
            let a = try normalize(axis, rank: x.rank, node)
            let perm = Array(0..<x.rank).filter { $0 != a } + [a]
            let moved = a == x.rank - 1 ? x : transpose(x, perm: perm)
            let cols = x.shape[a]
            var out = moved.data
            for r in stride(from: 0, to: moved.count, by: cols) {
                let m = moved.data[r..<r + cols].max() ?? 0
                var s: Float = 0
                for c in 0..<cols { out[r + c] = exp(moved.data[r + c] - m); s += out[r + c] }
                for c in 0..<cols { out[r + c] /= s }
            }
            let y = FloatTensor(shape: moved.shape, data: out)
            if a == x.rank - 1 { return one(y) }
            var inverse = [Int](repeating: 0, count: perm.count)
            for (i, p) in perm.enumerated() { inverse[p] = i }
            return one(transpose(y, perm: inverse))
        case let .reshape(allowZero):
            let target = try ints(try arg(args, 1, node), node)
            return one(reshaped(x, try reshapeTarget(x.shape, target, allowZero: allowZero, node)))
        case let .transpose(perm):
            return one(transpose(x, perm: perm ?? Array((0..<x.rank).reversed())))
        case let .squeeze(axes):
            let list = try axes ?? (args.count > 1 && args[1] != nil ? ints(args[1]!, node) : nil)
            let drop = try Set((list ?? x.shape.indices.filter { x.shape[$0] == 1 }).map { try normalize($0, rank: x.rank, node) })
            return one(reshaped(x, x.shape.enumerated().filter { !drop.contains($0.offset) }.map(\.element)))
        case let .unsqueeze(axes):
            guard let list = try axes ?? (args.count > 1 && args[1] != nil ? ints(args[1]!, node) : nil) else {
                throw FloatInterpreterError(node: node.name, reason: "Unsqueeze without axes")
            }
            let rank = x.rank + list.count
            let at = Set(try list.map { try normalize($0, rank: rank, node) })
            var shape: [Int] = [], source = x.shape.makeIterator()
            for d in 0..<rank { shape.append(at.contains(d) ? 1 : source.next()!) }
            return one(reshaped(x, shape))
        case let .shape(start, end):
            let r = x.rank
            let s = max(0, min(r, start < 0 ? start + r : start)), e = max(s, min(r, (end ?? r) < 0 ? (end ?? r) + r : (end ?? r)))
            return one(FloatTensor(shape: [e - s], ints: Array(x.shape[s..<e]), dtype: .int64))
        case let .gather(axis):
            let idx = try arg(args, 1, node)
            let a = try normalize(axis, rank: x.rank, node)
            let indices = try ints(idx, node).map { $0 < 0 ? $0 + x.shape[a] : $0 }
            guard indices.allSatisfy({ (0..<x.shape[a]).contains($0) }) else { throw FloatInterpreterError(node: node.name, reason: "index out of range") }
            let outer = x.shape[..<a].reduce(1, *), inner = x.shape[(a + 1)...].reduce(1, *)
            var order: [Int] = []
            for o in 0..<outer { for i in indices { for j in 0..<inner { order.append((o * x.shape[a] + i) * inner + j) } } }
            let shape = Array(x.shape[..<a]) + idx.shape + Array(x.shape[(a + 1)...])
            if let xi = x.ints { return one(FloatTensor(shape: shape, ints: order.map { xi[$0] }, dtype: x.dtype)) }
            return one(FloatTensor(shape: shape, data: order.map { x.data[$0] }))
        case let .concat(axis):
            let parts = try (0..<args.count).map { try arg(args, $0, node) }
            let a = try normalize(axis, rank: x.rank, node)
            guard parts.allSatisfy({ $0.rank == x.rank && $0.shape.enumerated().allSatisfy { $0.offset == a || $0.element == x.shape[$0.offset] } }) else {
                throw FloatInterpreterError(node: node.name, reason: "Concat inputs of shapes \(parts.map(\.shape)) do not match")
            }
            let outer = x.shape[..<a].reduce(1, *)
            var data: [Float] = [], intData: [Int] = []
            for o in 0..<outer {
                for p in parts {
                    let chunk = p.shape[a...].reduce(1, *)
                    data += p.data[(o * chunk)..<((o + 1) * chunk)]
                    if let pi = p.ints { intData += pi[(o * chunk)..<((o + 1) * chunk)] }
                }
            }
            var shape = x.shape
            shape[a] = parts.reduce(0) { $0 + $1.shape[a] }
            if parts.allSatisfy({ $0.ints != nil }) { return one(FloatTensor(shape: shape, ints: intData, dtype: x.dtype)) }
            return one(FloatTensor(shape: shape, data: data))
        case let .cast(to):
            if to.isInteger { return one(FloatTensor(shape: x.shape, ints: x.data.map { Int($0.rounded(.towardZero)) }, dtype: to)) }
            return one(FloatTensor(shape: x.shape, data: x.data))
        case let .batchNormalization(epsilon):
            let (g, b, m, v) = (try arg(args, 1, node), try arg(args, 2, node), try arg(args, 3, node), try arg(args, 4, node))
            guard x.rank >= 2 else { throw FloatInterpreterError(node: node.name, reason: "BatchNormalization needs rank ≥ 2") }
            let c = x.shape[1], inner = x.shape[2...].reduce(1, *)
            let coeff = (0..<c).map { QuantArith.batchNormCoefficients(gamma: g.data[$0], beta: b.data[$0], mean: m.data[$0], variance: v.data[$0], epsilon: epsilon) }
            return one(FloatTensor(shape: x.shape, data: x.data.enumerated().map { i, value in
                let k = coeff[(i / inner) % c]
                return value * k.scale + k.bias
            }))
        case let .topK(axis, largest, _):
            let k = try ints(try arg(args, 1, node), node).first ?? 1
            let a = try normalize(axis, rank: x.rank, node)
            guard a == x.rank - 1 else { throw FloatInterpreterError(node: node.name, reason: "TopK over a non-last axis is not supported") }
            let n = x.shape[a]
            var values: [Float] = [], indices: [Int] = []
            for r in stride(from: 0, to: x.count, by: n) {
                let order = (0..<n).sorted { i, j in
                    let vi = x.data[r + i], vj = x.data[r + j]
                    return vi != vj ? (largest ? vi > vj : vi < vj) : i < j
                }
                for i in order.prefix(k) { values.append(x.data[r + i]); indices.append(i) }
            }
            var shape = x.shape
            shape[a] = k
            return [FloatTensor(shape: shape, data: values), FloatTensor(shape: shape, ints: indices, dtype: .int64)]
        case let .argMax(axis, keepDims, selectLast):
            let a = try normalize(axis, rank: x.rank, node)
            guard a == x.rank - 1 else { throw FloatInterpreterError(node: node.name, reason: "ArgMax over a non-last axis is not supported") }
            let n = x.shape[a]
            var out: [Int] = []
            for r in stride(from: 0, to: x.count, by: n) {
                var best = 0
                for i in 0..<n where selectLast ? x.data[r + i] >= x.data[r + best] : x.data[r + i] > x.data[r + best] { best = i }
                out.append(best)
            }
            var shape = x.shape
            if keepDims { shape[a] = 1 } else { shape.remove(at: a) }
            return one(FloatTensor(shape: shape, ints: out, dtype: .int64))
        case let .quant(signed, narrow, rounding):
            let (s, z, bw) = (try arg(args, 1, node), try arg(args, 2, node), try arg(args, 3, node))
            let bits = Int(bw.data.first ?? 8)
            let si = broadcastIndices(s.shape, to: x.shape), zi = broadcastIndices(z.shape, to: x.shape)
            guard broadcastShape(x.shape, s.shape) == x.shape, broadcastShape(x.shape, z.shape) == x.shape else {
                throw FloatInterpreterError(node: node.name, reason: "scale or zero point does not broadcast to \(x.shape)")
            }
            return one(FloatTensor(shape: x.shape, data: x.data.indices.map { i in
                QuantArith.quant(x.data[i], scale: s.data[si[i]], zeroPoint: z.data[zi[i]], bits: bits, signed: signed, narrow: narrow, rounding: rounding)
            }))
        case .bipolarQuant:
            let s = try arg(args, 1, node)
            let si = broadcastIndices(s.shape, to: x.shape)
            return one(FloatTensor(shape: x.shape, data: x.data.indices.map { QuantArith.bipolar(x.data[$0], scale: s.data[si[$0]]) }))
        case let .trunc(rounding, signed, narrow, version):
            let (s, z, ib) = (try arg(args, 1, node), try arg(args, 2, node), try arg(args, 3, node))
            let outScale = version == 2 ? try arg(args, 4, node) : nil
            let ob = try arg(args, version == 2 ? 5 : 4, node)
            let si = broadcastIndices(s.shape, to: x.shape), zi = broadcastIndices(z.shape, to: x.shape)
            let oi = outScale.map { broadcastIndices($0.shape, to: x.shape) }
            return one(FloatTensor(shape: x.shape, data: x.data.indices.map { i in
                QuantArith.trunc(x.data[i], scale: s.data[si[i]], zeroPoint: z.data[zi[i]], inputBits: ib.data[0], outputBits: ob.data[0],
                                 outputScale: outScale.map { $0.data[oi![i]] }, signed: signed, narrow: narrow, rounding: rounding)
            }))
        case let .multiThreshold(_, outScale, outBias, layout):
            let t = try arg(args, 1, node)
            let channelAxis = try multiThresholdChannelAxis(rank: x.rank, layout: layout, node)
            let c = x.rank == 0 ? 1 : x.shape[channelAxis]
            let steps = t.shape.count == 2 ? t.shape[1] : t.count
            guard t.shape.count == 2 && (t.shape[0] == c || t.shape[0] == 1) else {
                throw FloatInterpreterError(node: node.name, reason: "thresholds of shape \(t.shape) do not match \(c) channels")
            }
            let st = strides(x.shape)
            return one(FloatTensor(shape: x.shape, data: x.data.enumerated().map { i, v in
                let ch = t.shape[0] == 1 ? 0 : (i / st[channelAxis]) % c
                var n: Float = 0
                for j in 0..<steps where v >= t.data[ch * steps + j] { n += 1 }
                return outScale * n + outBias
            }))
        case let .quantizeLinear(axis, _):
            let s = try arg(args, 1, node)
            let z = args.count > 2 ? args[2] : nil
            let dtype = z?.dtype ?? .uint8
            guard let range = dtype.integerRange, [.int8, .uint8, .int16, .uint16, .int32].contains(dtype) else {
                throw FloatInterpreterError(node: node.name, reason: "QuantizeLinear to \(dtype.rawValue) is not supported")
            }
            let ch = try perAxis(s, shape: x.shape, axis: axis, node)
            let zs = try z.map { try ints($0, node) } ?? [0]
            return one(FloatTensor(shape: x.shape, ints: x.data.indices.map { i in
                let c = s.count == 1 ? 0 : ch(i)
                return QuantArith.quantizeLinear(x.data[i], scale: s.data[c], zeroPoint: zs.count == 1 ? zs[0] : zs[c], range: range)
            }, dtype: dtype))
        case let .dequantizeLinear(axis):
            let s = try arg(args, 1, node)
            let z = args.count > 2 ? args[2] : nil
            let q = try ints(x, node)
            let ch = try perAxis(s, shape: x.shape, axis: axis, node)
            let zs = try z.map { try ints($0, node) } ?? [0]
            return one(FloatTensor(shape: x.shape, data: q.indices.map { i in
                let c = s.count == 1 ? 0 : ch(i)
                return Float(q[i] - (zs.count == 1 ? zs[0] : zs[c])) * s.data[c]
            }))
        case .qLinearMatMul:
            let (sa, za, b, sb, zb, sy, zy) = (try arg(args, 1, node), try arg(args, 2, node), try arg(args, 3, node), try arg(args, 4, node),
                                              try arg(args, 5, node), try arg(args, 6, node), try arg(args, 7, node))
            let acc = try integerProduct(x, b, za: try ints(za, node), zb: try ints(zb, node), node)
            guard let range = zy.dtype.integerRange else { throw FloatInterpreterError(node: node.name, reason: "output zero point must be an integer tensor") }
            let n = acc.shape.last!
            let zyv = try ints(zy, node)
            return one(FloatTensor(shape: acc.shape, ints: acc.ints!.enumerated().map { i, a in
                let col = sb.count == 1 ? 0 : i % n
                let m = sa.data[0] * sb.data[col] / sy.data[0]
                return QuantArith.requantizeORT(a, multiplier: m, zeroPoint: zyv[0], range: range)
            }, dtype: zy.dtype))
        case .matMulInteger:
            let b = try arg(args, 1, node)
            let za = try args.count > 2 ? args[2].map { try ints($0, node) } ?? [0] : [0]
            let zb = try args.count > 3 ? args[3].map { try ints($0, node) } ?? [0] : [0]
            return one(try integerProduct(x, b, za: za, zb: zb, node))
        case .conv, .convInteger, .qLinearConv, .maxPool, .averagePool, .globalAveragePool, .globalMaxPool, .pad:
            return one(try applyWindow(node, args))
        }
    }

    /// `Σ (a − za)(b − zb)` of integer tensors `[.., M, K] × [K, N]` (per-column `zb` allowed).
    static func integerProduct(_ a: FloatTensor, _ b: FloatTensor, za: [Int], zb: [Int], _ node: Node) throws -> FloatTensor {
        let av = try ints(a, node), bv = try ints(b, node)
        guard b.rank == 2, a.rank >= 1, a.shape.last == b.shape[0] else {
            throw FloatInterpreterError(node: node.name, reason: "integer MatMul of shapes \(a.shape) and \(b.shape) is not supported")
        }
        let k = b.shape[0], n = b.shape[1], m = a.count / k
        var out = [Int](repeating: 0, count: m * n)
        for r in 0..<m {
            for c in 0..<n {
                var s = 0
                for i in 0..<k { s += (av[r * k + i] - za[0]) * (bv[i * n + c] - (zb.count == 1 ? zb[0] : zb[c])) }
                out[r * n + c] = s
            }
        }
        return FloatTensor(shape: Array(a.shape.dropLast()) + [n], ints: out, dtype: .int32)
    }

    /// Output shape of a Reshape of `shape` to `target` (0 copies, −1 infers).
    public static func reshapeTarget(_ shape: [Int], _ target: [Int], allowZero: Bool, _ node: Node) throws -> [Int] {
        var out = target.enumerated().map { i, d in d == 0 && !allowZero && i < shape.count ? shape[i] : d }
        let count = shape.reduce(1, *)
        if let at = out.firstIndex(of: -1) {
            let known = out.enumerated().filter { $0.offset != at }.reduce(1) { $0 * $1.element }
            guard known > 0, count % known == 0 else { throw FloatInterpreterError(node: node.name, reason: "cannot reshape \(shape) to \(target)") }
            out[at] = count / known
        }
        guard out.reduce(1, *) == count, out.allSatisfy({ $0 >= 0 }) else {
            throw FloatInterpreterError(node: node.name, reason: "cannot reshape \(shape) to \(target)")
        }
        return out
    }

    /// The channel axis QONNX's MultiThreshold uses: from `data_layout`, else by rank (NC, NWC, NCHW).
    public static func multiThresholdChannelAxis(rank: Int, layout: String, _ node: Node) throws -> Int {
        if !layout.isEmpty {
            guard let i = layout.firstIndex(of: "C") else { return 1 }
            return layout.distance(from: layout.startIndex, to: i)
        }
        switch rank {
        case 0, 1: return 0
        case 2: return 1
        case 3: return 2
        case 4: return 1
        default: throw FloatInterpreterError(node: node.name, reason: "MultiThreshold of rank \(rank) needs a data_layout")
        }
    }
}
