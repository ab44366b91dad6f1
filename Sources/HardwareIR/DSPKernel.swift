// The sparse DSP-chain kernel (after FlightLLM): N:M-sparse int8 weights stored as
// (value, offset) pairs, a chain of multiply-adds per output lane fed through a
// sparse input multiplexer. Dense weights are the N = M case of the same kernel.

/// A quantized fully connected layer on multiply-accumulate chains.
///
/// Inputs are split into blocks of `blockSize` (M, zero-padded); each output keeps
/// `kept` (N) weights per block, each with its offset in the block:
/// `acc[n] = b[n] + Σ_block Σ_i value · x[block·M + offset]`. Each lane's chain has
/// `chainLength = blocksPerCycle · N` multiply-adds, in groups of `groupSize`.
public struct DSPKernel: Codable, Hashable, Sendable {
    /// Identifier used for generated names (`fc0`, …).
    public var name: String
    /// The model nodes this kernel implements, for messages and reports.
    public var sourceNodes: [String]
    /// Input vector length.
    public var inputCount: Int
    /// Output vector length.
    public var outputCount: Int
    /// Output lanes: outputs computed per pass, one chain each.
    public var lanes: Int
    /// Block length `M`.
    public var blockSize: Int
    /// Weights kept per block `N` (`N = M`: dense).
    public var kept: Int
    /// Blocks consumed per cycle.
    public var blocksPerCycle: Int
    /// Multiply-adds per group of the chain; partial sums meet at group ends.
    public var groupSize: Int
    /// Input element type.
    public var input: IntType
    /// Weight type.
    public var weight: IntType
    /// Bias type (at accumulator scale).
    public var bias: IntType
    /// Accumulator type, proven to hold `bias + Σ w·x` for every input.
    public var accumulator: IntType
    /// Requantization multiplier type (unsigned).
    public var multiplier: IntType
    /// Requantization shift type (unsigned).
    public var shift: IntType
    /// Type of `acc·M + 2^(S−1)`, proven.
    public var scaled: IntType
    /// Type the requantizer clamps to.
    public var requantized: IntType
    /// Optional table after requantization.
    public var table: ActivationTable?
    /// Stored weights, `[outputCount][blocks][kept]`.
    public var values: [Int]
    /// Offsets of the stored weights in their block, `[outputCount][blocks][kept]`, each in `0..<M`.
    public var offsets: [Int]
    /// Per-output bias at accumulator scale.
    public var biases: [Int]
    /// Per-output requantizer.
    public var requantizers: [Requantizer]
    /// Real value of one input step.
    public var inputScale: Double
    /// Real value of one output step.
    public var outputScale: Double
    /// Cycle schedule.
    public var schedule: KernelSchedule

    /// Creates a kernel; Lowering is the only producer.
    public init(name: String, sourceNodes: [String], inputCount: Int, outputCount: Int, lanes: Int,
                blockSize: Int, kept: Int, blocksPerCycle: Int, groupSize: Int,
                input: IntType, weight: IntType, bias: IntType, accumulator: IntType, multiplier: IntType,
                shift: IntType, scaled: IntType, requantized: IntType, table: ActivationTable?,
                values: [Int], offsets: [Int], biases: [Int], requantizers: [Requantizer], inputScale: Double,
                outputScale: Double, schedule: KernelSchedule) {
        self.name = name
        self.sourceNodes = sourceNodes
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.lanes = lanes
        self.blockSize = blockSize
        self.kept = kept
        self.blocksPerCycle = blocksPerCycle
        self.groupSize = groupSize
        self.input = input
        self.weight = weight
        self.bias = bias
        self.accumulator = accumulator
        self.multiplier = multiplier
        self.shift = shift
        self.scaled = scaled
        self.requantized = requantized
        self.table = table
        self.values = values
        self.offsets = offsets
        self.biases = biases
        self.requantizers = requantizers
        self.inputScale = inputScale
        self.outputScale = outputScale
        self.schedule = schedule
    }

    /// Blocks per input vector: `ceil(inputCount / M)`.
    public var blocks: Int { (inputCount + blockSize - 1) / blockSize }
    /// Multiply-adds per lane: `blocksPerCycle · N`.
    public var chainLength: Int { blocksPerCycle * kept }
    /// Cycles per pass: `ceil(blocks / blocksPerCycle)`.
    public var cyclesPerPass: Int { (blocks + blocksPerCycle - 1) / blocksPerCycle }
    /// Output passes: `ceil(outputCount / lanes)`.
    public var passes: Int { (outputCount + lanes - 1) / lanes }
    /// Width of an offset field.
    public var offsetBits: Int { max(1, Int.bitWidth - (blockSize - 1).leadingZeroBitCount) }
    /// Output element type.
    public var output: IntType { table?.output ?? requantized }

    /// Stored pair `i` of block `b` of output `n`: (value, offset).
    public func pair(output n: Int, block b: Int, _ i: Int) -> (value: Int, offset: Int) {
        let at = (n * blocks + b) * kept + i
        return (values[at], offsets[at])
    }

    /// The effective weight of output `n` for input `k` (0 where pruned).
    public func weight(output n: Int, input k: Int) -> Int {
        let b = k / blockSize, off = k % blockSize
        for i in 0..<kept where pair(output: n, block: b, i).offset == off { return pair(output: n, block: b, i).value }
        return 0
    }

    /// Stores a dense `[outputCount][inputCount]` matrix as the `N = M` case.
    public static func densePairs(_ weights: [Int], inputCount: Int, outputCount: Int, blockSize m: Int) -> (values: [Int], offsets: [Int]) {
        let blocks = (inputCount + m - 1) / m
        var values: [Int] = [], offsets: [Int] = []
        for n in 0..<outputCount {
            for b in 0..<blocks {
                for i in 0..<m {
                    let k = b * m + i
                    values.append(k < inputCount ? weights[n * inputCount + k] : 0)
                    offsets.append(i)
                }
            }
        }
        return (values, offsets)
    }
}

extension DSPKernel {
    /// The cycle schedule of `RTL/lf_dsp_chain.v`: a pass issues `C = ceil(blocks / B)`
    /// cycles and lasts `T = max(C, lanes)` so the requantizer shared by the lanes keeps
    /// up; from the last issue, 2 chain stages, the hold stage, one requantizer cycle per
    /// lane, round and store (6 + lanes, +1 with a table).
    public static func schedule(inputCount: Int, outputCount: Int, lanes: Int, blocks: Int, blocksPerCycle: Int,
                                table: Bool) -> KernelSchedule {
        let passes = (outputCount + lanes - 1) / lanes
        let issue = (blocks + blocksPerCycle - 1) / blocksPerCycle
        let perPass = max(issue, lanes)
        return KernelSchedule(passes: passes, loadCycles: inputCount, computeCycles: (passes - 1) * perPass + issue,
                              drainCycles: 6 + lanes + (table ? 1 : 0), emitCycles: outputCount)
    }

    /// A dense kernel (`N = M = blockSize`, one block per cycle, one group) from a
    /// row-major `[outputCount][inputCount]` weight matrix: for hand-built programs.
    public static func dense(name: String, sourceNodes: [String], inputCount: Int, outputCount: Int, lanes: Int,
                             blockSize: Int = 1, input: IntType, weight: IntType, bias: IntType, accumulator: IntType,
                             multiplier: IntType, shift: IntType, scaled: IntType, requantized: IntType,
                             table: ActivationTable?, weights: [Int], biases: [Int], requantizers: [Requantizer],
                             inputScale: Double, outputScale: Double) -> DSPKernel {
        let pairs = densePairs(weights, inputCount: inputCount, outputCount: outputCount, blockSize: blockSize)
        let blocks = (inputCount + blockSize - 1) / blockSize
        let schedule = self.schedule(inputCount: inputCount, outputCount: outputCount, lanes: lanes, blocks: blocks,
                                     blocksPerCycle: 1, table: table != nil)
        return DSPKernel(name: name, sourceNodes: sourceNodes, inputCount: inputCount, outputCount: outputCount,
                         lanes: lanes, blockSize: blockSize, kept: blockSize, blocksPerCycle: 1, groupSize: blockSize,
                         input: input, weight: weight, bias: bias, accumulator: accumulator, multiplier: multiplier,
                         shift: shift, scaled: scaled, requantized: requantized, table: table, values: pairs.values,
                         offsets: pairs.offsets, biases: biases, requantizers: requantizers, inputScale: inputScale,
                         outputScale: outputScale, schedule: schedule)
    }
}
