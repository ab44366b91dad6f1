// Bit-exact execution of HardwareIR on the CPU: the arithmetic of
// docs/numerics.md, checked against every proven width as it runs.
import Dispatch
import Foundation
import HardwareIR

/// A value left its proven type: a bug in the width proofs, never a user error.
public struct OverflowError: Error, CustomStringConvertible, Equatable {
    /// Kernel where it happened.
    public var kernel: String
    /// Which quantity (`accumulator`, `scaled`, …).
    public var quantity: String
    /// The value.
    public var value: Int
    /// Its declared type.
    public var type: IntType

    public var description: String { "kernel '\(kernel)': \(quantity) \(value) does not fit \(type)" }
}

/// Why the engine refused an input.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// The input vector has the wrong length.
    case inputLength(expected: Int, got: Int)
    /// An input element is outside the input type.
    case inputRange(index: Int, value: Int, type: IntType)

    public var description: String {
        switch self {
        case let .inputLength(e, g): "input vector has \(g) elements, the design takes \(e)"
        case let .inputRange(i, v, t): "input element \(i) is \(v), outside \(t)"
        }
    }
}

/// The integer reference engine.
public enum IntegerEngine {
    /// `acc·M + half` where `half = 2^(S−1)` (0 when `S = 0`): the value the shift rounds.
    @inline(__always)
    public static func scaled(_ acc: Int, _ q: Requantizer) -> Int {
        acc * q.multiplier + (q.shift > 0 ? 1 << (q.shift - 1) : 0)
    }

    /// `clamp((acc·M + half) >> S, type.min, type.max)` with a flooring shift.
    @inline(__always)
    public static func requantize(_ acc: Int, _ q: Requantizer, to type: IntType) -> Int {
        Swift.min(Swift.max(scaled(acc, q) >> q.shift, type.min), type.max)
    }

    /// Runs one DSP-chain kernel on one vector: `acc = b + Σ_block Σ_i value · x[block·M + offset]`.
    public static func run(_ k: DSPKernel, _ x: [Int]) throws -> [Int] {
        try (0..<k.outputCount).map { try output(k, x, $0) }
    }

    /// Output `n` of a DSP-chain kernel.
    static func output(_ k: DSPKernel, _ x: [Int], _ n: Int) throws -> Int {
        let m = k.blockSize, kept = k.kept
        var acc = k.biases[n]
        var at = n * k.blocks * kept
        for b in 0..<k.blocks {
            for _ in 0..<kept {
                let i = b * m + k.offsets[at]
                if i < x.count { acc += k.values[at] * x[i] }
                at += 1
            }
        }
        guard k.accumulator.contains(acc) else {
            throw OverflowError(kernel: k.name, quantity: "accumulator", value: acc, type: k.accumulator)
        }
        return try finish(acc, k.requantizers[n], scaledType: k.scaled, requantized: k.requantized, table: k.table, kernel: k.name)
    }

    /// Requantizes a checked accumulator and applies the optional table.
    static func finish(_ acc: Int, _ q: Requantizer, scaledType: IntType, requantized: IntType, table: ActivationTable?, kernel: String) throws -> Int {
        let s = scaled(acc, q)
        guard scaledType.contains(s) else {
            throw OverflowError(kernel: kernel, quantity: "scaled accumulator", value: s, type: scaledType)
        }
        let r = requantize(acc, q, to: requantized)
        return table?.lookup(r) ?? r
    }

    /// Distance between position `p` of `x` (zero beyond its end) and centroid `c`.
    @inline(__always)
    public static func distance(_ k: LUTKernel, _ x: [Int], position p: Int, centroid c: Int) -> Int {
        var d = 0
        for e in 0..<k.vectorLength {
            let i = p * k.vectorLength + e
            let diff = (i < x.count ? x[i] : 0) - k.centroid(p, c, e)
            switch k.distance {
            case .linf: d = Swift.max(d, abs(diff))
            case .l2: d += diff * diff
            }
        }
        return d
    }

    /// Nearest activation centroid of each position; ties go to the lowest index.
    public static func search(_ k: LUTKernel, _ x: [Int]) -> [Int] {
        (0..<k.positions).map { p in
            var best = 0, bestDistance = Int.max
            for c in 0..<k.activationCentroids {
                let d = distance(k, x, position: p, centroid: c)
                if d < bestDistance { (best, bestDistance) = (c, d) }
            }
            return best
        }
    }

    /// Runs one LUT kernel on one vector.
    public static func run(_ k: LUTKernel, _ x: [Int]) throws -> [Int] {
        let a = search(k, x)
        return try (0..<k.outputCount).map { try output(k, x, a, $0) }
    }

    /// Output `n` of a LUT kernel given the chosen centroids `a`.
    static func output(_ k: LUTKernel, _ x: [Int], _ a: [Int], _ n: Int) throws -> Int {
        do {
            let g = n / k.groupColumns
            var acc = k.biases[n]
            for p in 0..<k.positions { acc += k.entry(p, g, a[p], k.code(p, n)) }
            guard k.accumulator.contains(acc) else {
                throw OverflowError(kernel: k.name, quantity: "accumulator", value: acc, type: k.accumulator)
            }
            guard let o = k.outliers else {
                return try finish(acc, k.requantizers[n], scaledType: k.scaled,
                                  requantized: k.requantized, table: k.table, kernel: k.name)
            }
            // Dense-and-sparse: y = clamp((acc·2^L + acc_outlier·M2 + half) >> S).
            var sparse = 0
            for j in 0..<o.count { sparse += o.values[n * o.count + j] * x[o.indices[n * o.count + j]] }
            guard o.accumulator.contains(sparse) else {
                throw OverflowError(kernel: k.name, quantity: "outlier accumulator", value: sparse, type: o.accumulator)
            }
            let q = k.requantizers[n]
            let s = scaled(acc, q) + sparse * o.multipliers[n]
            guard k.scaled.contains(s) else {
                throw OverflowError(kernel: k.name, quantity: "scaled accumulator", value: s, type: k.scaled)
            }
            let r = Swift.min(Swift.max(s >> q.shift, k.requantized.min), k.requantized.max)
            return k.table?.lookup(r) ?? r
        }
    }

    /// Runs one kernel with its outputs split across `threads` threads (the same integers as `run`).
    public static func run(_ kernel: Kernel, _ x: [Int], threads: Int) throws -> [Int] {
        guard threads > 1 else { return try run(kernel, x) }
        let count = kernel.outputCount
        let lut: (LUTKernel, [Int])? = if case let .lut(k) = kernel { (k, search(k, x)) } else { nil }
        let chunks = min(threads, count)
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        defer { results.deallocate() }
        let failure = FirstError()
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for n in stride(from: c * count / chunks, to: (c + 1) * count / chunks, by: 1) {
                do {
                    switch kernel {
                    case let .dsp(k): results[n] = try output(k, x, n)
                    case .lut: results[n] = try output(lut!.0, x, lut!.1, n)
                    }
                } catch { failure.record(error) }
            }
        }
        if let error = failure.error { throw error }
        return Array(results)
    }

    /// Runs one kernel of any kind.
    public static func run(_ kernel: Kernel, _ x: [Int]) throws -> [Int] {
        switch kernel {
        case let .dsp(k): try run(k, x)
        case let .lut(k): try run(k, x)
        }
    }

    /// Runs the whole program on one input vector.
    public static func run(_ program: Program, _ input: [Int]) throws -> [Int] {
        guard input.count == program.inputCount else {
            throw EngineError.inputLength(expected: program.inputCount, got: input.count)
        }
        for (i, v) in input.enumerated() where !program.input.contains(v) {
            throw EngineError.inputRange(index: i, value: v, type: program.input)
        }
        var x = input
        for k in program.kernels { x = try run(k, x) }
        return x
    }
}

/// The first error thrown by concurrent workers.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var error: Error?
    func record(_ e: Error) {
        lock.lock()
        if error == nil { error = e }
        lock.unlock()
    }
}
