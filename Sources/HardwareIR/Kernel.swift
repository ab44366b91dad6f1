// The kernel protocol every kind conforms to, the one registry that lists the
// kinds, and the pieces of arithmetic and schedule that several kinds share.
// Each kind keeps its backends in files of its own (ReferenceEngine/Kernels,
// EmitVerilog/Kernels, EmitHLS/Kernels, Estimate/Kernels); a test checks that
// every registered kind has every side.

/// A kind of hardware kernel: its parameters, port types, schedule and memories.
public protocol KernelDefinition: Codable, Hashable, Sendable {
    /// Registry key and JSON tag (`dsp-chain`, `lut-linear`, …).
    static var kind: String { get }
    /// One line on what it computes.
    static var summary: String { get }
    /// Types of the input ports, in port order.
    var inputTypes: [TensorType] { get }
    /// Type of the one output.
    var outputType: TensorType { get }
    /// Cycle schedule (the RTL follows it cycle for cycle).
    var schedule: KernelSchedule { get }
    /// Read-only memories of the RTL instance, in RTL order.
    var memories: [MemoryImage] { get }
    /// Lines of the kernel's section of `model.hwir` (after its header line).
    func dumpLines() -> [String]
    /// Checks the kernel's own consistency (array sizes, value ranges); throws `ProgramError`.
    func check(node: String) throws
}

extension KernelDefinition {
    /// The registry key of this kernel.
    public var kind: String { Self.kind }

    /// Whether `other` is the same kernel.
    func isEqual(_ other: any KernelDefinition) -> Bool {
        guard let o = other as? Self else { return false }
        return self == o
    }
}

/// Every kernel kind, once. Decoding, the emitters, the engine and the estimator find kinds here.
public enum KernelRegistry {
    /// The registered kinds.
    public static let kinds: [any KernelDefinition.Type] = [
        DSPKernel.self, LUTKernel.self, ThresholdKernel.self, ElementwiseKernel.self, ArgMaxKernel.self, ConcatKernel.self,
        SlidingWindowKernel.self, PoolKernel.self, FIFOKernel.self,
    ]

    /// The kind registered as `name`.
    public static func kind(named name: String) -> (any KernelDefinition.Type)? {
        kinds.first { $0.kind == name }
    }
}

/// A kernel of any registered kind.
public struct AnyKernel: Codable, Hashable, Sendable {
    /// The kernel.
    public let base: any KernelDefinition

    /// Wraps `kernel`.
    public init(_ kernel: any KernelDefinition) { base = kernel }

    /// Its registry key.
    public var kind: String { base.kind }

    private enum CodingKeys: String, CodingKey { case kind, parameters }

    /// Decodes `{"kind": …, "parameters": {…}}` through the registry.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let name = try c.decode(String.self, forKey: .kind)
        guard let type = KernelRegistry.kind(named: name) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown kernel kind '\(name)'")
        }
        base = try Self.decode(type, from: c)
    }

    private static func decode<K: KernelDefinition>(_: K.Type, from c: KeyedDecodingContainer<CodingKeys>) throws -> any KernelDefinition {
        try c.decode(K.self, forKey: .parameters)
    }

    /// Encodes the kind tag and the parameters.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(base, forKey: .parameters)
    }

    public static func == (a: AnyKernel, b: AnyKernel) -> Bool { a.base.isEqual(b.base) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        base.hash(into: &hasher)
    }
}

/// One step of a kernel's cycle script: load `load[p]` beats on each port `p` (each port
/// independently, one beat per cycle when offered), then be busy for `busy` cycles, then offer
/// `emit` output beats one per cycle. A phase of length zero is skipped: the next phase starts
/// the cycle after the previous one ends.
public struct ScheduleStep: Codable, Hashable, Sendable {
    public var load: [Int]
    public var busy: Int
    public var emit: Int

    public init(load: [Int], busy: Int, emit: Int) {
        self.load = load
        self.busy = busy
        self.emit = emit
    }
}

/// Cycle schedule of one kernel on the dataflow pipeline. Every kernel follows one
/// contract, frame by frame: it loads a whole frame on each input port (each port
/// independently, one beat per cycle when offered), then is busy for `busyCycles`, then
/// offers its output beats one per cycle; the cycle after its last output beat is accepted
/// it loads again. The first output beat is offered `busyCycles + 1` cycles after the last
/// input beat. An inference is `frames` such frames, or the steps of `script` (a sliding
/// window alternates loading pixels and emitting windows). A FIFO (`fifoDepth`) instead
/// accepts a beat whenever it holds fewer than `fifoDepth` and offers one whenever it holds
/// any, a beat being offered from the cycle after it was accepted.
public struct KernelSchedule: Codable, Hashable, Sendable {
    /// Beats per frame on each input port.
    public var inputBeats: [Int]
    /// Output passes (linear kernels), 1 otherwise.
    public var passes: Int
    /// Centroid-search cycles, including one drain cycle (LUT-linear; 0 otherwise).
    public var searchCycles: Int
    /// Compute cycles after the last input beat.
    public var computeCycles: Int
    /// Pipeline cycles from the last compute issue to the first output beat.
    public var drainCycles: Int
    /// Output beats per frame.
    public var outputBeats: Int
    /// Frames per inference.
    public var frames: Int
    /// An explicit script of the inference (replaces `frames` of the frame contract).
    public var script: [ScheduleStep]?
    /// A FIFO of this depth (the other fields describe one beat).
    public var fifoDepth: Int?

    /// Creates a schedule.
    public init(inputBeats: [Int], passes: Int = 1, searchCycles: Int = 0, computeCycles: Int, drainCycles: Int, outputBeats: Int, frames: Int = 1) {
        self.inputBeats = inputBeats
        self.passes = passes
        self.searchCycles = searchCycles
        self.computeCycles = computeCycles
        self.drainCycles = drainCycles
        self.outputBeats = outputBeats
        self.frames = frames
    }

    /// A scripted schedule on one input port.
    public static func scripted(_ steps: [ScheduleStep]) -> KernelSchedule {
        var s = KernelSchedule(inputBeats: [steps.reduce(0) { $0 + ($1.load.first ?? 0) }], computeCycles: 0, drainCycles: 0,
                               outputBeats: steps.reduce(0) { $0 + $1.emit })
        s.script = steps
        return s
    }

    /// A FIFO of `depth` beats.
    public static func fifo(depth: Int) -> KernelSchedule {
        var s = KernelSchedule(inputBeats: [1], computeCycles: 0, drainCycles: 0, outputBeats: 1)
        s.fifoDepth = depth
        return s
    }

    /// Cycles from the one after the last input beat of a frame to the one before its first output beat.
    public var busyCycles: Int { searchCycles + computeCycles + drainCycles }
    /// The steps of one inference.
    public var steps: [ScheduleStep] {
        script ?? [ScheduleStep](repeating: ScheduleStep(load: inputBeats, busy: busyCycles, emit: outputBeats), count: frames)
    }
    /// Beats per inference on each input port (a FIFO: per beat).
    public var totalInputBeats: [Int] {
        if let script { return (0..<inputBeats.count).map { p in script.reduce(0) { $0 + $1.load[p] } } }
        return inputBeats.map { $0 * frames }
    }
    /// Output beats per inference.
    public var totalOutputBeats: Int { script.map { $0.reduce(0) { $0 + $1.emit } } ?? outputBeats * frames }
    /// Cycles to receive the longest input frame when it is offered every cycle.
    public var loadCycles: Int { inputBeats.max() ?? 0 }
    /// Cycles to stream the outputs without back-pressure.
    public var emitCycles: Int { outputBeats }
    /// Cycles the kernel is busy with one inference when never stalled (load, compute, emit per
    /// frame or step): a stream of inferences enters it at most once every `occupancyCycles`.
    public var occupancyCycles: Int {
        if fifoDepth != nil { return 0 }
        if let script { return script.reduce(0) { $0 + ($1.load.max() ?? 0) + $1.busy + $1.emit } }
        return frames * (loadCycles + busyCycles + outputBeats)
    }

    /// One line for `model.hwir`.
    public var summary: String {
        if let d = fifoDepth { return "fifo depth \(d)" }
        var s = "in \(inputBeats.map(String.init).joined(separator: "+")) passes \(passes) search \(searchCycles) compute \(computeCycles) drain \(drainCycles) out \(outputBeats)"
        if let script { s = "script \(script.count) steps, in \(totalInputBeats[0]) out \(totalOutputBeats)" } else if frames > 1 { s += " frames \(frames)" }
        return s
    }
}

/// `y = clamp((acc·M + C) >> S, lo, hi)` for one output channel, with an arithmetic
/// (flooring) shift; `C = 2^(S−1)` rounds half up, and a bias or a zero point can be folded into it.
public struct Requantizer: Codable, Hashable, Sendable {
    /// Integer multiplier `M ≥ 0`.
    public var multiplier: Int
    /// Right shift `S ≥ 0`.
    public var shift: Int
    /// Offset `C` added before the shift.
    public var offset: Int

    /// A requantizer rounding half up: `C = 2^(S−1)` (0 for `S = 0`).
    public init(multiplier: Int, shift: Int) {
        self.init(multiplier: multiplier, shift: shift, offset: shift > 0 ? 1 << (shift - 1) : 0)
    }

    /// A requantizer with an explicit offset.
    public init(multiplier: Int, shift: Int, offset: Int) {
        self.multiplier = multiplier
        self.shift = shift
        self.offset = offset
    }

    /// `acc·M + C`, the value the shift rounds.
    @inline(__always)
    public func scaled(_ acc: Int) -> Int { acc * multiplier + offset }

    /// `clamp((acc·M + C) >> S, lo, hi)`, or with `halfEven` `clamp(round_half_even((acc·M + C) / 2^S))`.
    @inline(__always)
    public func apply(_ acc: Int, lo: Int, hi: Int, halfEven: Bool = false) -> Int {
        Swift.min(Swift.max(Requantizer.shift(scaled(acc), shift, halfEven: halfEven), lo), hi)
    }

    /// `v >> s` (flooring), or `v / 2^s` rounded half to even (convergent rounding).
    @inline(__always)
    public static func shift(_ v: Int, _ s: Int, halfEven: Bool) -> Int {
        let q = v >> s
        guard halfEven, s > 0 else { return q }
        let rem = v - (q << s), half = 1 << (s - 1)
        return rem > half || (rem == half && q & 1 == 1) ? q + 1 : q
    }
}

/// An integer-in, integer-out table applied after requantization (sigmoid, …).
public struct ActivationTable: Codable, Hashable, Sendable {
    /// The float function the table samples, for reports.
    public var function: String
    /// Type of the index value; entry `i` is for value `input.min + i`.
    public var input: IntType
    /// Type of the entries.
    public var output: IntType
    /// `input.cardinality` entries.
    public var values: [Int]

    /// Creates a table.
    public init(function: String, input: IntType, output: IntType, values: [Int]) {
        precondition(values.count == input.cardinality)
        self.function = function
        self.input = input
        self.output = output
        self.values = values
    }

    /// The entry for value `x` of type `input`.
    public func lookup(_ x: Int) -> Int { values[x - input.min] }
}

/// Formulas several kinds share, each written once.
public enum Arith {
    /// `ceil(a / b)` for `a ≥ 0`, `b ≥ 1`.
    @inline(__always)
    public static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

    /// Bits of an index into `count` things (at least 1).
    @inline(__always)
    public static func indexBits(_ count: Int) -> Int { max(1, Int.bitWidth - (count - 1).leadingZeroBitCount) }

    /// The narrowest signed type holding `[lo, hi]` and at least `minimum` bits.
    public static func signedType(_ lo: Int, _ hi: Int, minimum: Int = 2) -> IntType? {
        guard let t = IntType.signedFitting(lo, hi) else { return nil }
        return .int(max(t.bits, minimum))
    }

    /// `[lo, hi]` of `Σ w_i · x` for `x` anywhere in `[xlo, xhi]`, plus `bias`.
    public static func dotRange(_ weights: some Sequence<Int>, xlo: Int, xhi: Int, bias: Int = 0) -> (lo: Int, hi: Int) {
        var lo = bias, hi = bias
        for w in weights {
            let a = w * xlo, b = w * xhi
            lo += Swift.min(a, b)
            hi += Swift.max(a, b)
        }
        return (lo, hi)
    }
}
