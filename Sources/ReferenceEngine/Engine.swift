// Bit-exact execution of HardwareIR on the CPU: the arithmetic of
// docs/numerics.md, checked against every proven width as it runs. Each kernel
// kind's evaluation lives in Kernels/<Kind>.swift.
import Dispatch
import Foundation
import HardwareIR

/// A kernel kind the engine can run.
public protocol ReferenceKernel: KernelDefinition {
    /// The output integers of one inference from the integers on each input port;
    /// throws `OverflowError` naming `node` if a value leaves its proven type.
    func evaluate(_ inputs: [[Int]], node: String) throws -> [Int]
    /// The same integers, with the work split across `threads` threads.
    func evaluate(_ inputs: [[Int]], node: String, threads: Int) throws -> [Int]
}

extension ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String, threads: Int) throws -> [Int] { try evaluate(inputs, node: node) }
}

/// A value left its proven type: a bug in the width proofs, never a user error.
public struct OverflowError: Error, CustomStringConvertible, Equatable {
    /// Node where it happened.
    public var kernel: String
    /// Which quantity (`accumulator`, `scaled`, …).
    public var quantity: String
    /// The value.
    public var value: Int
    /// Its declared type.
    public var type: IntType

    /// Creates an error.
    public init(kernel: String, quantity: String, value: Int, type: IntType) {
        self.kernel = kernel
        self.quantity = quantity
        self.value = value
        self.type = type
    }

    public var description: String { "kernel '\(kernel)': \(quantity) \(value) does not fit \(type)" }
}

/// Why the engine refused an input.
public enum EngineError: Error, CustomStringConvertible, Equatable {
    /// The input vector has the wrong length.
    case inputLength(expected: Int, got: Int)
    /// An input element is outside the input type.
    case inputRange(index: Int, value: Int, type: String)
    /// A kernel kind without a reference evaluation (a missing Kernels/ file).
    case unknownKind(String)

    public var description: String {
        switch self {
        case let .inputLength(e, g): "input vector has \(g) elements, the design takes \(e)"
        case let .inputRange(i, v, t): "input element \(i) is \(v), outside \(t)"
        case let .unknownKind(k): "the reference engine has no evaluation of kernel kind '\(k)'"
        }
    }
}

/// The integer reference engine.
public enum IntegerEngine {
    /// Keep every kernel on its interpreter loop (`--checked`): no packed fast path.
    nonisolated(unsafe) public static var checked = false

    /// The reference side of `node`'s kernel.
    static func reference(_ node: KernelNode) throws -> any ReferenceKernel {
        guard let k = node.kernel.base as? any ReferenceKernel else { throw EngineError.unknownKind(node.kind) }
        return k
    }

    /// Runs one node on its input vectors.
    public static func run(_ node: KernelNode, _ inputs: [[Int]], threads: Int = 1) throws -> [Int] {
        let k = try reference(node)
        return threads > 1 ? try k.evaluate(inputs, node: node.name, threads: threads) : try k.evaluate(inputs, node: node.name)
    }

    /// Checks an input vector against the program's input type.
    public static func checkInput(_ program: Program, _ input: [Int]) throws {
        guard input.count == program.inputCount else {
            throw EngineError.inputLength(expected: program.inputCount, got: input.count)
        }
        let e = program.inputType.element
        for (i, v) in input.enumerated() where !e.contains(v) {
            throw EngineError.inputRange(index: i, value: v, type: e.description)
        }
    }

    /// Every value of the program for one input vector, by name.
    public static func evaluateAll(_ program: Program, _ input: [Int], threads: Int = 1) throws -> [String: [Int]] {
        try checkInput(program, input)
        var env = [program.input: input]
        for node in program.nodes {
            env[node.output] = try run(node, node.inputs.map { env[$0]! }, threads: threads)
        }
        return env
    }

    /// Runs the whole program on one input vector.
    public static func run(_ program: Program, _ input: [Int], threads: Int = 1) throws -> [Int] {
        try evaluateAll(program, input, threads: threads)[program.output]!
    }

    /// Runs the whole program on a batch of input vectors, the vectors split across `threads`
    /// threads (each vector on one thread); the outputs in input order.
    public static func run(_ program: Program, batch: [[Int]], threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> [[Int]] {
        let chunks = max(1, min(threads, batch.count))
        guard chunks > 1 else { return try batch.map { try run(program, $0) } }
        let results = UnsafeMutableBufferPointer<[Int]>.allocate(capacity: batch.count)
        results.initialize(repeating: [])
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        let failure = FirstError()
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for i in stride(from: c * batch.count / chunks, to: (c + 1) * batch.count / chunks, by: 1) {
                do { results[i] = try run(program, batch[i]) } catch { failure.record(error) }
            }
        }
        if let error = failure.error { throw error }
        return Array(results)
    }

    /// `clamp((acc·M + C) >> S, type)` after checking `acc·M + C` against `scaledType`.
    @inline(__always)
    static func requantize(_ acc: Int, _ q: Requantizer, scaled scaledType: IntType, to range: ClosedRange<Int>, halfEven: Bool = false, node: String) throws -> Int {
        let s = q.scaled(acc)
        guard scaledType.contains(s) else { throw OverflowError(kernel: node, quantity: "scaled accumulator", value: s, type: scaledType) }
        return Swift.min(Swift.max(Requantizer.shift(s, q.shift, halfEven: halfEven), range.lowerBound), range.upperBound)
    }

    /// Runs `body(n)` for `n` in `0..<count` split across `threads` threads and collects the results.
    static func parallel(_ count: Int, threads: Int, _ body: (Int) throws -> Int) throws -> [Int] {
        let chunks = max(1, min(threads, count))
        guard chunks > 1 else { return try (0..<count).map(body) }
        let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: count)
        defer { results.deallocate() }
        let failure = FirstError()
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
            for n in stride(from: c * count / chunks, to: (c + 1) * count / chunks, by: 1) {
                do { results[n] = try body(n) } catch { failure.record(error) }
            }
        }
        if let error = failure.error { throw error }
        return Array(results)
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
