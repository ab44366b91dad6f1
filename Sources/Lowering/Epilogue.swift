// The arithmetic between an integer result and the next quantizer of a quantized
// model (bias adds, batch norms, scales, ReLU, then Quant / BipolarQuant /
// MultiThreshold / QuantizeLinear / Trunc), as float32 functions of the integers,
// evaluated op by op exactly as the model's reference executor does. Every such
// function is monotone in each integer, so it is a step function: the solver finds
// its steps (breakpoints) and realizes it by an integer requantizer when one
// reproduces every step, else by thresholds, and checks the result by enumeration
// (docs/numerics.md, "Quantized models").
import Foundation
import HardwareIR
import ModelGraph
import ReferenceEngine

/// A float32 step between the integer result and the quantizer; constants are per element (one entry: all).
enum ScalarOp: Equatable {
    /// `x + c`.
    case add([Float])
    /// `x − c`.
    case sub([Float])
    /// `c − x`.
    case rsub([Float])
    /// `x · c`.
    case mul([Float])
    /// `x / c`.
    case div([Float])
    /// `max(x, 0)`.
    case relu
    /// `min(max(x, lo), hi)`.
    case clip(Float, Float)
    /// `x · s + b` (onnxruntime's BatchNormalization).
    case affine(scale: [Float], bias: [Float])

    @inline(__always)
    static func at(_ v: [Float], _ i: Int) -> Float { v.count == 1 ? v[0] : v[i] }

    @inline(__always)
    func apply(_ x: Float, _ i: Int) -> Float {
        switch self {
        case let .add(c): x + Self.at(c, i)
        case let .sub(c): x - Self.at(c, i)
        case let .rsub(c): Self.at(c, i) - x
        case let .mul(c): x * Self.at(c, i)
        case let .div(c): x / Self.at(c, i)
        case .relu: Swift.max(x, 0)
        case let .clip(lo, hi): Swift.min(Swift.max(x, lo), hi)
        case let .affine(s, b): x * Self.at(s, i) + Self.at(b, i)
        }
    }
}

/// The quantizer that closes an epilogue: float32 to the integer the next stream carries.
enum ClosingQuantizer: Equatable {
    /// QONNX `Quant`: the integer `round(clamp(x / s + z))` (the stream carries it with zero point `z`).
    case quant(scale: [Float], zeroPoint: [Float], bits: Int, signed: Bool, narrow: Bool, rounding: RoundingMode)
    /// QONNX `BipolarQuant`: `x ≥ 0 ? 1 : −1`.
    case bipolar
    /// FINN `MultiThreshold`: the count of thresholds `≤ x` plus `offset` (per element rows of `steps`).
    case multiThreshold(thresholds: [Float], steps: Int, perElement: Bool, offset: Int)
    /// ONNX `QuantizeLinear`: `clamp(round(x / s) + z)`.
    case quantizeLinear(scale: [Float], zeroPoint: [Int], range: ClosedRange<Int>)
    /// QONNX `Trunc`: the integer before its final rescale.
    case trunc(scale: [Float], zeroPoint: [Float], inputBits: Float, outputBits: Float, outputScale: [Float]?, signed: Bool, narrow: Bool,
               rounding: RoundingMode)
    /// onnxruntime's QLinearMatMul/QGemm requantizer of the integer accumulator:
    /// `clamp(round(float(acc) · m) + z)`; the start must be `.integerValue`.
    case requantizeORT(multiplier: [Float], zeroPoint: [Int], range: ClosedRange<Int>)

    @inline(__always)
    func apply(_ x: Float, _ i: Int) -> Int {
        switch self {
        case let .quant(s, z, bits, signed, narrow, rounding):
            return Int(QuantArith.quantInteger(x, scale: ScalarOp.at(s, i), zeroPoint: ScalarOp.at(z, i), bits: bits, signed: signed,
                                               narrow: narrow, rounding: rounding))
        case .bipolar:
            return x >= 0 ? 1 : -1
        case let .multiThreshold(t, steps, perElement, offset):
            let base = perElement ? i * steps : 0
            var n = 0
            for j in 0..<steps where x >= t[base + j] { n += 1 }
            return n + offset
        case let .quantizeLinear(s, z, range):
            return QuantArith.quantizeLinear(x, scale: ScalarOp.at(s, i), zeroPoint: z.count == 1 ? z[0] : z[i], range: range)
        case let .trunc(s, z, ib, ob, os, signed, narrow, rounding):
            // The integer is the value before `(y − z_out) · s_out`: recompute it from the rescaled output.
            let sc = ScalarOp.at(s, i), zp = ScalarOp.at(z, i)
            let y = QuantArith.trunc(x, scale: sc, zeroPoint: zp, inputBits: ib, outputBits: ob, outputScale: os.map { ScalarOp.at($0, i) },
                                     signed: signed, narrow: narrow, rounding: rounding)
            if let os {
                let o = ScalarOp.at(os, i)
                return Int((y / o).rounded(.toNearestOrEven))
            }
            return Int((y / sc).rounded(.toNearestOrEven) + zp)
        case let .requantizeORT(m, z, range):
            return QuantArith.requantizeORT(Int(x), multiplier: ScalarOp.at(m, i), zeroPoint: z.count == 1 ? z[0] : z[i], range: range)
        }
    }

    /// Whether it saturates to `range` (QONNX `Trunc` version 1 does not: its input must keep it within).
    var clamps: Bool {
        if case let .trunc(_, _, _, _, os, _, _, _) = self { return os != nil }
        return true
    }

    /// The element type of the integers it produces.
    var element: ElementType {
        switch self {
        case let .quant(_, _, bits, signed, narrow, _):
            if bits == 1 { return signed ? .bipolar : .uint(1) }
            return signed ? .int(bits, narrow: narrow) : .uint(bits, narrow: narrow)
        case .bipolar: return .bipolar
        case let .multiThreshold(_, steps, _, offset):
            let lo = offset, hi = offset + steps
            return lo >= 0 ? ElementType(IntType.unsignedFitting(max(hi, 1))!) : ElementType(Arith.signedType(lo, hi)!)
        case let .quantizeLinear(_, _, range), let .requantizeORT(_, _, range):
            return range.lowerBound >= 0 ? ElementType(IntType.unsignedFitting(max(range.upperBound, 1))!) : ElementType(Arith.signedType(range.lowerBound, range.upperBound)!)
        case let .trunc(_, _, _, ob, _, signed, narrow, _):
            return signed ? .int(Int(ob), narrow: narrow && ob >= 2) : .uint(Int(ob), narrow: narrow && ob >= 2)
        }
    }

    /// The smallest and largest integer it can produce.
    var range: ClosedRange<Int> {
        switch self {
        case let .quant(_, _, bits, signed, narrow, _):
            if bits == 1 && signed { return -1...1 }
            return QuantArith.minInt(signed: signed, narrow: narrow, bits: bits)...QuantArith.maxInt(signed: signed, narrow: narrow, bits: bits)
        case .bipolar: return -1...1
        case let .multiThreshold(_, steps, _, offset): return offset...(offset + steps)
        case let .quantizeLinear(_, _, r), let .requantizeORT(_, _, r): return r
        case let .trunc(_, _, _, ob, _, signed, narrow, _):
            return QuantArith.minInt(signed: signed, narrow: narrow, bits: Int(ob))...QuantArith.maxInt(signed: signed, narrow: narrow, bits: Int(ob))
        }
    }
}

/// How the float value is formed from the integer inputs.
enum EpilogueStart: Equatable {
    /// The exact accumulator's real value rounded once to float32: `fl(acc · s)`.
    case accumulator(scale: [Double])
    /// A stream's real value as QONNX and ONNX dequantize it: `fl(float(q − z) · s)`.
    case stream(scale: [Float], zeroPoint: [Int])
    /// Two streams added in float32: `fl(fl((a − za)·sa) + fl((b − zb)·sb))`.
    case sum(scaleA: [Float], zeroA: [Int], scaleB: [Float], zeroB: [Int])
    /// The integer itself (for onnxruntime's integer requantizer).
    case integerValue

    var arity: Int { if case .sum = self { return 2 } else { return 1 } }
}

/// A float32 function from one or two integers per element to the integer of the next stream.
struct Epilogue {
    var start: EpilogueStart
    var ops: [ScalarOp]
    var quantizer: ClosingQuantizer
    /// Model nodes it covers, for messages.
    var nodes: [String]

    /// The reference result for integer inputs `xs` of element `i`.
    @inline(__always)
    func value(_ xs: (Int, Int), _ i: Int) -> Int {
        var x: Float
        switch start {
        case let .accumulator(s): x = Float(Double(xs.0) * (s.count == 1 ? s[0] : s[i]))
        case let .stream(s, z): x = Float(xs.0 - (z.count == 1 ? z[0] : z[i])) * ScalarOp.at(s, i)
        case let .sum(sa, za, sb, zb):
            x = Float(xs.0 - (za.count == 1 ? za[0] : za[i])) * ScalarOp.at(sa, i) + Float(xs.1 - (zb.count == 1 ? zb[0] : zb[i])) * ScalarOp.at(sb, i)
        case .integerValue: x = Float(xs.0)
        }
        for op in ops { x = op.apply(x, i) }
        return quantizer.apply(x, i)
    }

    /// Whether the whole function is the same for every element (so one solution serves all).
    var isUniform: Bool {
        func one<T>(_ v: [T]) -> Bool { v.count == 1 }
        switch start {
        case let .accumulator(s): if !one(s) { return false }
        case let .stream(s, z): if !one(s) || !one(z) { return false }
        case let .sum(a, za, b, zb): if !one(a) || !one(za) || !one(b) || !one(zb) { return false }
        case .integerValue: break
        }
        for op in ops {
            switch op {
            case let .add(c), let .sub(c), let .rsub(c), let .mul(c), let .div(c): if !one(c) { return false }
            case let .affine(s, b): if !one(s) || !one(b) { return false }
            case .relu, .clip: break
            }
        }
        switch quantizer {
        case let .quant(s, z, _, _, _, _): return one(s) && one(z)
        case let .multiThreshold(_, _, perElement, _): return !perElement
        case let .quantizeLinear(s, z, _): return one(s) && one(z)
        case let .trunc(s, z, _, _, os, _, _, _): return one(s) && one(z) && (os.map(one) ?? true)
        case let .requantizeORT(m, z, _): return one(m) && one(z)
        case .bipolar: return true
        }
    }
}

/// A monotone step function on `[lo, hi]`, by its steps.
struct StepFunction: Hashable {
    var lo: Int
    var hi: Int
    /// Value at `lo`.
    var first: Int
    /// Value at `hi`.
    var last: Int
    /// `true`: non-decreasing; `false`: non-increasing.
    var ascending: Bool
    /// For ascending functions, `steps[k]` is the smallest `x` with `f(x) ≥ first + k + 1`;
    /// for descending ones the largest `x` with `f(x) ≥ last + k + 1`.
    var steps: [Int]

    /// `f(x)` from the steps.
    func value(_ x: Int) -> Int {
        if ascending {
            var k = 0
            while k < steps.count && x >= steps[k] { k += 1 }
            return first + k
        }
        var k = 0
        while k < steps.count && x <= steps[k] { k += 1 }
        return last + k
    }

    /// The steps of the monotone `f` on `[lo, hi]` by binary search (`f` is evaluated O(levels · log range) times).
    static func find(lo: Int, hi: Int, _ f: (Int) -> Int) -> StepFunction {
        let a = f(lo), b = f(hi)
        let ascending = b >= a
        let (first, last) = (a, b)
        var steps: [Int] = []
        if ascending {
            for level in stride(from: a + 1, through: b, by: 1) {
                var l = lo, h = hi   // f(h) >= level, f(l) may be
                if f(l) >= level { steps.append(l); continue }
                while h - l > 1 {
                    let mid = l + (h - l) / 2
                    if f(mid) >= level { h = mid } else { l = mid }
                }
                steps.append(h)
            }
        } else {
            for level in stride(from: b + 1, through: a, by: 1) {
                var l = lo, h = hi   // f(l) >= level
                if f(h) >= level { steps.append(h); continue }
                while h - l > 1 {
                    let mid = l + (h - l) / 2
                    if f(mid) >= level { l = mid } else { h = mid }
                }
                steps.append(l)
            }
        }
        return StepFunction(lo: lo, hi: hi, first: first, last: last, ascending: ascending, steps: steps)
    }
}

/// Finds integer realizations of step functions.
enum EpilogueSolver {
    /// Largest multiplier width a requantizer may use.
    static let maxMultiplierBits = 24
    /// Largest shift tried (keeps level·2^S within 62 bits).
    static let maxShift = 40
    /// Evaluations of the reference a node may spend on the exhaustive check.
    static let enumerationBudget = 1 << 24

    /// A requantizer equal to the ascending `f` on its whole range, with `M ≥ 0`, or nil:
    /// `clamp(floor((x·M + C) / 2^S))` (`halfEven` false: C carries the rounding half) or
    /// `clamp(round_half_even((x·M + C) / 2^S))` (`halfEven` true, for exact ties of power-of-two scales).
    ///
    /// Each step gives constraints `C ≥ L − a·M` (reach level k at its step) and `C < U − b·M`
    /// (stay below it one value earlier). For a given `M` the best `C` is the largest lower bound,
    /// feasible when `gap(M) = min(U − b·M) − max(L − a·M) ≥ 1`. `gap` is concave (a minimum of
    /// lines minus a maximum of lines), so the feasible multipliers form an interval: its smallest
    /// member is found exactly by a ternary search for the top of `gap` and a binary search below it,
    /// within the bounds the first and last steps already impose. The smallest shift with a
    /// multiplier below 2^maxMultiplierBits wins.
    static func requantizer(for f: StepFunction, out: ClosedRange<Int>, halfEven: Bool) -> Requantizer? {
        precondition(f.ascending)
        if f.steps.isEmpty { return Requantizer(multiplier: 0, shift: 0, offset: f.first) }
        let levels = f.steps.enumerated().map { (k: f.first + $0.offset + 1, t: $0.element) }
        for s in 0...maxShift {
            // The smallest v = x·M + C the requantizer maps to level k or above.
            func boundary(_ k: Int) -> Int {
                guard halfEven, s > 0 else { return k << s }
                return (2 * k - 1) << (s - 1) + (k & 1 == 1 ? 1 : 0)
            }
            var lower: [(a: Int, l: Int)] = [], upper: [(b: Int, u: Int)] = []
            lower.reserveCapacity(levels.count + 1)
            upper.reserveCapacity(levels.count + 1)
            for (k, t) in levels {
                lower.append((t, boundary(k)))
                upper.append((t - 1, boundary(k)))
            }
            if f.first > out.lowerBound { lower.append((f.lo, boundary(f.first))) }
            if f.last < out.upperBound { upper.append((f.hi, boundary(f.last + 1))) }
            // `gap(M)`, or nil where a product overflows (never feasible within 62 bits).
            func gap(_ m: Int) -> Int? {
                var hiC = Int.max, loC = Int.min
                for (b, u) in upper {
                    let (p, o) = b.multipliedReportingOverflow(by: m)
                    guard !o else { return nil }
                    hiC = Swift.min(hiC, u - p)
                }
                for (a, l) in lower {
                    let (p, o) = a.multipliedReportingOverflow(by: m)
                    guard !o else { return nil }
                    loC = Swift.max(loC, l - p)
                }
                let (g, o) = hiC.subtractingReportingOverflow(loC)
                return o ? (hiC > loC ? Int.max / 2 : nil) : g
            }
            // Necessary bounds from the extreme pairs (a subset of all constraint pairs).
            var mLo = 1, mHi = (1 << maxMultiplierBits) - 1
            func tighten(_ a: Int, _ l: Int, _ b: Int, _ u: Int) {
                let d = b - a, r = u - l   // need d·M < r
                if d > 0 { mHi = Swift.min(mHi, Int((Double(r) / Double(d)).rounded(.up))) }
                else if d < 0 { mLo = Swift.max(mLo, Int((Double(r) / Double(d)).rounded(.down))) }
            }
            for l in [lower.first!, lower.last!] { for u in [upper.first!, upper.last!] { tighten(l.a, l.l, u.b, u.u) } }
            mLo = Swift.max(1, mLo)
            mHi = Swift.min((1 << maxMultiplierBits) - 1, mHi)
            guard mLo <= mHi else { continue }
            // The top of the concave gap on [mLo, mHi].
            func value(_ m: Int) -> Int { gap(m) ?? Int.min }
            var lo = mLo, hi = mHi
            while hi - lo > 2 {
                let m1 = lo + (hi - lo) / 3, m2 = hi - (hi - lo) / 3
                if value(m1) < value(m2) { lo = m1 + 1 } else { hi = m2 }
            }
            guard let top = (lo...hi).max(by: { value($0) < value($1) }), value(top) >= 1 else { continue }
            // The smallest feasible M: gap rises up to the top.
            var a = mLo, b = top
            while a < b {
                let mid = a + (b - a) / 2
                if value(mid) >= 1 { b = mid } else { a = mid + 1 }
            }
            let m = a
            let c = lower.map { $0.l - $0.a * m }.max()!
            return Requantizer(multiplier: m, shift: s, offset: c)
        }
        return nil
    }

    /// A requantizer for every step function, in one rounding mode (floor first, which is cheaper), or nil.
    static func requantizers(for fs: [StepFunction], out: ClosedRange<Int>) -> (requantizers: [Requantizer], halfEven: Bool)? {
        for halfEven in [false, true] {
            var rs: [Requantizer] = []
            var cache: [StepFunction: Requantizer] = [:]
            for f in fs {
                guard let r = cache[f] ?? requantizer(for: f, out: out, halfEven: halfEven) else { break }
                cache[f] = r
                rs.append(r)
            }
            if rs.count == fs.count { return (rs, halfEven) }
        }
        return nil
    }

    /// How far the best requantizer within the widths is from `f` (for the error when none is exact):
    /// the line through `f`'s first and last steps at the largest shift whose multiplier fits, with the
    /// offset that matches the first step; returns the values it gets wrong and the largest error in levels.
    static func nearestMiss(for f: StepFunction, out: ClosedRange<Int>) -> (requantizer: Requantizer, wrong: Int, total: Int, worst: Int)? {
        guard f.ascending, f.steps.count >= 2, let t0 = f.steps.first, let t1 = f.steps.last, t1 > t0 else { return nil }
        let slope = Double(f.steps.count - 1) / Double(t1 - t0)
        var s = maxShift
        while s > 0 && (slope * Double(1 << s)).rounded() >= Double(1 << maxMultiplierBits) { s -= 1 }
        let m = Int((slope * Double(1 << s)).rounded())
        let c = ((f.first + 1) << s) - m * t0
        let r = Requantizer(multiplier: m, shift: s, offset: c)
        let total = f.hi - f.lo + 1
        var wrong = 0, worst = 0
        // Every value when the range is small enough, else a stride through it.
        let stride = Swift.max(1, total / enumerationBudget)
        for x in Swift.stride(from: f.lo, through: f.hi, by: stride) {
            let d = abs(r.apply(x, lo: out.lowerBound, hi: out.upperBound) - f.value(x))
            if d != 0 { wrong += stride; worst = Swift.max(worst, d) }
        }
        return (r, Swift.min(wrong, total), total, worst)
    }

    /// Thresholds of `f` for a threshold kernel whose levels are `out` with step 1: one per level above
    /// `out.lowerBound`. `always` is reached by every input, `never` by none (per the direction of `f`).
    static func thresholds(for f: StepFunction, out: ClosedRange<Int>, always: Int, never: Int) -> [Int] {
        guard out.upperBound > out.lowerBound else { return [] }
        let base = f.ascending ? f.first : f.last
        return (out.lowerBound + 1...out.upperBound).map { level in
            if level <= base { return always }
            let k = level - base - 1
            return k < f.steps.count ? f.steps[k] : never
        }
    }
}
