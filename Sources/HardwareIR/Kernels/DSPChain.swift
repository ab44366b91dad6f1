// The sparse DSP-chain kernel (after FlightLLM): N:M-sparse integer weights stored
// as (value, offset) pairs, a chain of multiply-adds per output lane fed through a
// sparse input multiplexer, one requantizer shared by the lanes. Dense weights are
// the N = M case of the same kernel. RTL: RTL/lf_dsp_chain.v; HLS: HLS/lutforge/dsp_chain.h.

/// A fully connected layer on multiply-accumulate chains.
///
/// Inputs are split into blocks of `blockSize` (M, zero-padded); each output keeps
/// `kept` (N) weights per block, each with its offset in the block:
/// `acc[n] = b[n] + Σ_block Σ_i value · x[block·M + offset]`, then
/// `y[n] = clamp((acc[n]·M[n] + C[n]) >> S[n])` and an optional table.
public struct DSPKernel: KernelDefinition {
    public static let kind = "dsp-chain"
    public static let summary = "N:M-sparse (or dense) integer multiply-add chains on DSP slices, shared requantizer"

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
    /// Type of the input stream.
    public var inputType: TensorType
    /// Type of the output stream.
    public var outputType: TensorType
    /// Weight type.
    public var weight: IntType
    /// Type of the accumulator's initial value `b` (zero points of the input folded in, for example).
    public var bias: IntType
    /// Accumulator type, proven to hold `b + Σ w·x` for every input.
    public var accumulator: IntType
    /// Requantization multiplier type (unsigned).
    public var multiplier: IntType
    /// Requantization shift type (unsigned).
    public var shift: IntType
    /// Requantization offset type (signed).
    public var offset: IntType
    /// Type of `acc·M + C`, proven.
    public var scaled: IntType
    /// Type the requantizer clamps to.
    public var requantized: IntType
    /// Optional table after requantization.
    public var table: ActivationTable?
    /// Stored weights, `[outputCount][blocks][kept]`.
    @Blob public var values: [Int]
    /// Offsets of the stored weights in their block, `[outputCount][blocks][kept]`, each in `0..<M`.
    @Blob public var offsets: [Int]
    /// Per-output accumulator initial value.
    @Blob public var biases: [Int]
    /// Per-output requantizer.
    public var requantizers: [Requantizer]
    /// The requantizers round half to even (convergent) instead of flooring after the offset.
    public var halfEven: Bool

    /// Creates a kernel; Lowering is the only producer. The schedule follows from the shape.
    public init(inputCount: Int, outputCount: Int, lanes: Int, blockSize: Int, kept: Int, blocksPerCycle: Int, groupSize: Int,
                inputType: TensorType, outputType: TensorType, weight: IntType, bias: IntType, accumulator: IntType,
                multiplier: IntType, shift: IntType, offset: IntType, scaled: IntType, requantized: IntType,
                table: ActivationTable?, values: [Int], offsets: [Int], biases: [Int], requantizers: [Requantizer], halfEven: Bool = false) {
        self.halfEven = halfEven
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.lanes = lanes
        self.blockSize = blockSize
        self.kept = kept
        self.blocksPerCycle = blocksPerCycle
        self.groupSize = groupSize
        self.inputType = inputType
        self.outputType = outputType
        self.weight = weight
        self.bias = bias
        self.accumulator = accumulator
        self.multiplier = multiplier
        self.shift = shift
        self.offset = offset
        self.scaled = scaled
        self.requantized = requantized
        self.table = table
        self.values = values
        self.offsets = offsets
        self.biases = biases
        self.requantizers = requantizers
    }

    public var inputTypes: [TensorType] { [inputType] }
    /// Input element type as the hardware carries it.
    public var input: IntType { inputType.storage }
    /// Output element type.
    public var output: IntType { table?.output ?? requantized }
    /// Where the requantizer saturates: the output element's range (narrow types included), or
    /// `requantized` when a table follows.
    public var clampRange: ClosedRange<Int> { table == nil ? outputType.element.min...outputType.element.max : requantized.min...requantized.max }

    /// Frames per inference: input vectors (windows of a convolution) processed one after another.
    public var frames: Int { inputType.count / inputCount }
    /// Blocks per input vector: `ceil(inputCount / M)`.
    public var blocks: Int { Arith.ceilDiv(inputCount, blockSize) }
    /// Multiply-adds per lane: `blocksPerCycle · N`.
    public var chainLength: Int { blocksPerCycle * kept }
    /// Issue cycles per pass: `ceil(blocks / blocksPerCycle)`.
    public var cyclesPerPass: Int { Arith.ceilDiv(blocks, blocksPerCycle) }
    /// Output passes: `ceil(outputCount / lanes)`.
    public var passes: Int { Arith.ceilDiv(outputCount, lanes) }
    /// Width of an offset field.
    public var offsetBits: Int { Arith.indexBits(blockSize) }

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
        let blocks = Arith.ceilDiv(inputCount, m)
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

    /// The cycle schedule of `RTL/lf_dsp_chain.v`: a pass issues `C = ceil(blocks / B)`
    /// cycles and lasts `T = max(C, lanes)` so the requantizer shared by the lanes keeps
    /// up; from the last issue, 2 chain stages, the hold stage, one requantizer cycle per
    /// lane, round and store (6 + lanes, +1 with a table).
    public var schedule: KernelSchedule {
        let issue = cyclesPerPass
        let perPass = max(issue, lanes)
        return KernelSchedule(inputBeats: [inputCount], passes: passes, computeCycles: (passes - 1) * perPass + issue,
                              drainCycles: 6 + lanes + (table != nil ? 1 : 0), outputBeats: outputCount, frames: frames)
    }

    public func check(node: String) throws {
        func need(_ ok: Bool, _ why: String) throws { if !ok { throw ProgramError(at: "node '\(node)'", reason: why) } }
        let stored = outputCount * blocks * kept
        try need(inputType.count % inputCount == 0 && outputType.count == outputCount * frames && outputType.framesPerInference == frames,
                 "port shapes do not match \(inputCount) -> \(outputCount) per frame")
        try need(values.count == stored && offsets.count == stored, "holds \(values.count) pairs, the shape needs \(stored)")
        try need(biases.count == outputCount && requantizers.count == outputCount, "needs one bias and one requantizer per output")
        try need(outputType.storage == output, "output stream is \(outputType.storage), the kernel writes \(output)")
        try need(lanes >= 1 && lanes <= outputCount && kept >= 1 && kept <= blockSize && blocksPerCycle >= 1, "lanes, N:M or blocks per cycle out of range")
        try need(values.allSatisfy(weight.contains) && offsets.allSatisfy { (0..<blockSize).contains($0) }, "a weight or offset is outside its type")
        try need(biases.allSatisfy(bias.contains), "a bias is outside \(bias)")
        try need(requantizers.allSatisfy { multiplier.contains($0.multiplier) && shift.contains($0.shift) && offset.contains($0.offset) },
                 "a requantizer field is outside its type")
    }

    public func dumpLines() -> [String] {
        var out = [
            "lanes \(lanes) sparsity \(kept):\(blockSize) chain \(chainLength) group \(groupSize)",
            "types x \(input) w \(weight) b \(bias) acc \(accumulator) m \(multiplier) s \(shift) c \(offset) scaled \(scaled) y \(requantized)" + (halfEven ? " rounding half-even" : ""),
        ]
        for n in 0..<outputCount {
            let q = requantizers[n]
            let w = (0..<inputCount).map { String(weight(output: n, input: $0)) }.joined(separator: " ")
            out.append("out \(n): b \(biases[n]) m \(q.multiplier) s \(q.shift) c \(q.offset) w [\(w)]")
        }
        if let t = table { out.append(t.dumpLine) }
        return out
    }

    /// (value, offset) pairs (`w`), biases (`b`), requantizers (`q`: `{C, M, S}`) and the activation table (`t`).
    public var memories: [MemoryImage] {
        let chain = chainLength
        func output(_ p: Int, _ lane: Int) -> Int? {
            let n = p * lanes + lane
            return n < outputCount ? n : nil
        }
        var w = MemoryImage(suffix: "w", width: lanes * chain * (weight.bits + offsetBits))
        var b = MemoryImage(suffix: "b", width: lanes * bias.bits)
        var q = MemoryImage(suffix: "q", width: lanes * (shift.bits + multiplier.bits + offset.bits))
        for p in 0..<passes {
            for t in 0..<cyclesPerPass {
                w.append((0..<lanes).flatMap { lane in (0..<chain).flatMap { i -> [(value: Int, bits: Int)] in
                    let block = t * blocksPerCycle + i / kept
                    guard let n = output(p, lane), block < blocks else { return [(0, weight.bits), (0, offsetBits)] }
                    let pair = pair(output: n, block: block, i % kept)
                    return [(pair.value, weight.bits), (pair.offset, offsetBits)]
                } })
            }
            b.append((0..<lanes).map { l in (output(p, l).map { biases[$0] } ?? 0, bias.bits) })
            q.append((0..<lanes).flatMap { l -> [(value: Int, bits: Int)] in
                let r = output(p, l).map { requantizers[$0] } ?? Requantizer(multiplier: 0, shift: 0, offset: 0)
                return [(r.shift, shift.bits), (r.multiplier, multiplier.bits), (r.offset, offset.bits)]
            })
        }
        return [w, b, q] + (table.map { [$0.image(copies: lanes)] } ?? [])
    }
}

extension DSPKernel {
    /// A dense kernel (`N = M = blockSize`, one block per cycle, one group) from a
    /// row-major `[outputCount][inputCount]` weight matrix: for hand-built programs.
    public static func dense(inputCount: Int, outputCount: Int, lanes: Int, blockSize: Int = 1, inputType: TensorType,
                             outputQuant: Quantization? = nil, weight: IntType, bias: IntType, accumulator: IntType,
                             multiplier: IntType, shift: IntType, offset: IntType, scaled: IntType, requantized: IntType,
                             table: ActivationTable?, weights: [Int], biases: [Int], requantizers: [Requantizer], halfEven: Bool = false) -> DSPKernel {
        let pairs = densePairs(weights, inputCount: inputCount, outputCount: outputCount, blockSize: blockSize)
        let out = TensorType.vector(ElementType(table?.output ?? requantized), outputCount, quant: outputQuant)
        return DSPKernel(inputCount: inputCount, outputCount: outputCount, lanes: lanes, blockSize: blockSize, kept: blockSize,
                         blocksPerCycle: 1, groupSize: blockSize, inputType: inputType, outputType: out, weight: weight, bias: bias,
                         accumulator: accumulator, multiplier: multiplier, shift: shift, offset: offset, scaled: scaled,
                         requantized: requantized, table: table, values: pairs.values, offsets: pairs.offsets, biases: biases,
                         requantizers: requantizers, halfEven: halfEven)
    }
}

extension ActivationTable {
    /// The table image (`t`), one copy per lane that reads it.
    func image(copies: Int) -> MemoryImage {
        var t = MemoryImage(suffix: "t", width: output.bits, copies: copies)
        for v in values { t.append([(v, output.bits)]) }
        return t
    }

    /// `table sigmoid i8 -> u8 [...]` for model.hwir.
    public var dumpLine: String { "table \(function) \(input) -> \(output) [\(values.map(String.init).joined(separator: " "))]" }
}
