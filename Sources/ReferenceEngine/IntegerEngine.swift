// Bit-exact execution of HardwareIR on the CPU: the arithmetic of
// docs/numerics.md, checked against every proven width as it runs.
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
    /// `clamp((acc·M + 2^(S−1)) >> S, type.min, type.max)` with a flooring shift.
    @inline(__always)
    public static func requantize(_ acc: Int, _ q: Requantizer, to type: IntType) -> Int {
        let y = (acc * q.multiplier + (1 << (q.shift - 1))) >> q.shift
        return Swift.min(Swift.max(y, type.min), type.max)
    }

    /// Runs one kernel on one vector.
    public static func run(_ k: DenseKernel, _ x: [Int]) throws -> [Int] {
        var y = [Int](repeating: 0, count: k.outputCount)
        for n in 0..<k.outputCount {
            var acc = k.biases[n]
            let base = n * k.inputCount
            for i in 0..<k.inputCount { acc += k.weights[base + i] * x[i] }
            guard k.accumulator.contains(acc) else {
                throw OverflowError(kernel: k.name, quantity: "accumulator", value: acc, type: k.accumulator)
            }
            let q = k.requantizers[n]
            let scaled = acc * q.multiplier + (1 << (q.shift - 1))
            guard k.scaled.contains(scaled) else {
                throw OverflowError(kernel: k.name, quantity: "scaled accumulator", value: scaled, type: k.scaled)
            }
            let r = requantize(acc, q, to: k.requantized)
            y[n] = k.table?.lookup(r) ?? r
        }
        return y
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
