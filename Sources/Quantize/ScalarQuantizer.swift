// Scalar quantizers: per-channel symmetric weights, calibrated activations,
// and integer requantization multipliers (docs/numerics.md).
import Foundation

/// Rounds half to even, the one rounding rule LUTForge uses for float → integer at compile time.
@inline(__always)
public func roundHalfEven(_ v: Double) -> Double { v.rounded(.toNearestOrEven) }

/// Symmetric per-output-channel weight quantization.
public enum WeightQuantizer {
    /// Quantizes each row to integers in `[-(2^(bits-1) - 1), 2^(bits-1) - 1]`.
    ///
    /// The scale of a row is `max|w| / (2^(bits-1) - 1)`; an all-zero row gets scale 1.
    public static func perChannel(rows: [[Float]], bits: Int) -> (codes: [[Int]], scales: [Double]) {
        let qmax = Double((1 << (bits - 1)) - 1)
        var codes: [[Int]] = []
        var scales: [Double] = []
        for row in rows {
            let maxAbs = row.reduce(0.0) { Swift.max($0, Double(abs($1))) }
            let scale = maxAbs > 0 ? maxAbs / qmax : 1
            codes.append(row.map { Int(Swift.min(Swift.max(roundHalfEven(Double($0) / scale), -qmax), qmax)) })
            scales.append(scale)
        }
        return (codes, scales)
    }
}

/// Range of a tensor observed during calibration.
public struct ObservedRange: Equatable, Sendable {
    /// Smallest value seen.
    public var min: Double
    /// Largest value seen.
    public var max: Double

    /// Creates a range.
    public init(min: Double, max: Double) {
        self.min = min
        self.max = max
    }

    /// The range of `values` (0...0 when empty).
    public init<S: Sequence>(values: S) where S.Element == Float {
        var lo = Double.infinity, hi = -Double.infinity
        for v in values {
            lo = Swift.min(lo, Double(v))
            hi = Swift.max(hi, Double(v))
        }
        self.init(min: lo.isFinite ? lo : 0, max: hi.isFinite ? hi : 0)
    }

    /// Largest magnitude.
    public var maxAbs: Double { Swift.max(abs(min), abs(max)) }
}

/// Per-tensor activation quantization from an observed range.
public enum ActivationQuantizer {
    /// Scale for a signed symmetric `bits`-bit tensor: `maxAbs / (2^(bits-1) - 1)`, or 1 for an all-zero range.
    public static func signedScale(_ range: ObservedRange, bits: Int) -> Double {
        let m = range.maxAbs
        return m > 0 ? m / Double((1 << (bits - 1)) - 1) : 1
    }

    /// Scale for an unsigned `bits`-bit tensor with zero point 0: `max / (2^bits - 1)`, or 1.
    public static func unsignedScale(_ range: ObservedRange, bits: Int) -> Double {
        range.max > 0 ? range.max / Double((1 << bits) - 1) : 1
    }

    /// `clamp(roundHalfEven(x / scale), lo, hi)`: how the host turns a float into a hardware integer.
    public static func quantize(_ x: Double, scale: Double, lo: Int, hi: Int) -> Int {
        let q = roundHalfEven(x / scale)
        if q.isNaN { return 0 }
        return Int(Swift.min(Swift.max(q, Double(lo)), Double(hi)))
    }
}

/// Integer form of a positive real multiplier: `m ≈ M / 2^S`.
public enum MultiplierQuantizer {
    /// The pair with the largest `S` in `1...62` whose `M = round(m·2^S)` is below `2^bits`.
    ///
    /// Returns `nil` when even `S = 1` overflows `bits` (the ratio is too large to requantize).
    /// A multiplier too small to matter becomes `(0, 1)`, which maps every accumulator to 0.
    public static func quantize(_ m: Double, bits: Int) -> (multiplier: Int, shift: Int)? {
        precondition(m > 0 && m.isFinite)
        let limit = Double(1 << bits)
        var best: (Int, Int)?
        for s in 1...62 {
            let candidate = roundHalfEven(m * pow(2, Double(s)))
            if candidate >= limit { break }
            best = (Int(candidate), s)
        }
        guard let best else { return nil }
        return best.0 == 0 ? (0, 1) : best
    }
}
