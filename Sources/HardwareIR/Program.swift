// The lowered program: integer kernels with their tables, proven widths and
// schedule. Emitters, the reference engine and the estimator read only this.

/// `y = clamp((acc·multiplier + half) >> shift, lo, hi)` for one output channel, where
/// `half = 2^(shift−1)` for `shift ≥ 1` and 0 for `shift = 0`.
public struct Requantizer: Codable, Hashable, Sendable {
    /// Unsigned integer multiplier `M`.
    public var multiplier: Int
    /// Right shift `S ≥ 1`.
    public var shift: Int

    /// Creates a requantizer.
    public init(multiplier: Int, shift: Int) {
        self.multiplier = multiplier
        self.shift = shift
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

/// Cycle schedule of one kernel on the streaming datapath (`RTL/lf_dense.v`).
public struct KernelSchedule: Codable, Hashable, Sendable {
    /// Output passes: `ceil(outputs / lanes)` (per column group for LUT kernels).
    public var passes: Int
    /// Cycles to receive the input vector.
    public var loadCycles: Int
    /// Centroid-search cycles, including its one drain cycle (LUT kernels; 0 for dense).
    public var searchCycles: Int
    /// Accumulate cycles: `passes · inputs` (dense) or `passes · position blocks` (LUT).
    public var computeCycles: Int
    /// Pipeline cycles from the last multiply-accumulate issue to the last stored output.
    public var drainCycles: Int
    /// Cycles to stream the outputs (one per cycle without back-pressure).
    public var emitCycles: Int

    /// Cycles the kernel is busy with one inference: it loads, searches, computes, drains
    /// and emits before it can load the next input, so a stream of inferences enters it at
    /// most once every `occupancyCycles`.
    public var occupancyCycles: Int { loadCycles + searchCycles + computeCycles + drainCycles + emitCycles }

    /// Creates a schedule.
    public init(passes: Int, loadCycles: Int, searchCycles: Int = 0, computeCycles: Int, drainCycles: Int, emitCycles: Int) {
        self.passes = passes
        self.loadCycles = loadCycles
        self.searchCycles = searchCycles
        self.computeCycles = computeCycles
        self.drainCycles = drainCycles
        self.emitCycles = emitCycles
    }
}

/// What the program's output integers mean.
public enum OutputMeaning: Codable, Hashable, Sendable {
    /// Logits whose argmax equals the argmax of the model's final Softmax (named).
    case logits(softmaxNode: String)
    /// Quantized values of the model output.
    case values
}

/// The device and clock a design is compiled for (the vendor project and the reports use them).
public struct Target: Codable, Hashable, Sendable {
    /// Device database id (`arty-a7-35t`).
    public var device: String
    /// Vendor part (`xc7a35ticsg324-1L`) or nextpnr device and package (`up5k sg48`).
    public var part: String
    /// `AMD` or `Lattice`.
    public var vendor: String
    /// Clock, MHz.
    public var clockMHz: Double

    /// Creates a target.
    public init(device: String, part: String, vendor: String, clockMHz: Double) {
        self.device = device
        self.part = part
        self.vendor = vendor
        self.clockMHz = clockMHz
    }
}

/// A whole lowered model: a chain of kernels between a streamed input and output.
public struct Program: Codable, Hashable, Sendable {
    /// Model name.
    public var name: String
    /// File name (without directories) of the model it came from.
    public var sourceFile: String
    /// Input element type.
    public var input: IntType
    /// Input vector length.
    public var inputCount: Int
    /// Real value of one input step: `x_int = round(x / inputScale)` on the host.
    public var inputScale: Double
    /// Kernels in stream order.
    public var kernels: [Kernel]
    /// How to read the output.
    public var outputMeaning: OutputMeaning
    /// How the calibration activations were obtained, for the record.
    public var calibration: String
    /// Device and clock, once the driver has chosen them.
    public var target: Target?

    /// Creates a program.
    public init(name: String, sourceFile: String, input: IntType, inputCount: Int, inputScale: Double,
                kernels: [Kernel], outputMeaning: OutputMeaning, calibration: String) {
        self.name = name
        self.sourceFile = sourceFile
        self.input = input
        self.inputCount = inputCount
        self.inputScale = inputScale
        self.kernels = kernels
        self.outputMeaning = outputMeaning
        self.calibration = calibration
    }

    /// Output element type.
    public var output: IntType { kernels.last?.output ?? input }
    /// Output vector length.
    public var outputCount: Int { kernels.last?.outputCount ?? inputCount }
    /// Real value of one output step.
    public var outputScale: Double { kernels.last?.outputScale ?? inputScale }
    /// Width of the top's output beat counter, which drives `out_last`.
    public var outputIndexBits: Int { max(1, Int.bitWidth - (outputCount - 1).leadingZeroBitCount) }

    /// Cycles from the first input beat to the last output beat, both included, when
    /// inputs arrive every cycle and outputs are always accepted: the first kernel's
    /// load, then per kernel its search, compute, drain and emit (a kernel's emit is
    /// the next one's load).
    public var latencyCycles: Int { kernelLatencyCycles.reduce(0, +) }

    /// Each kernel's share of `latencyCycles`: its search, compute, drain and emit, plus the
    /// input load for the first kernel.
    public var kernelLatencyCycles: [Int] {
        kernels.enumerated().map { i, k in
            let s = k.schedule
            return (i == 0 ? s.loadCycles : 0) + s.searchCycles + s.computeCycles + s.drainCycles + s.emitCycles
        }
    }

    /// Cycles between the ends of successive inferences when inputs are streamed back to
    /// back: kernels hand over with valid/ready and hold one inference each, so the design
    /// accepts a new one as fast as its busiest kernel (largest `occupancyCycles`) turns over.
    public var initiationIntervalCycles: Int { kernels.map(\.schedule.occupancyCycles).max() ?? 0 }
}
