// DSP-chain kernels: N:M magnitude pruning (dense is N = M), per-channel
// symmetric int8 weights, integer bias and requantizers, widths proven from
// the stored weights (docs/numerics.md).
import HardwareIR
import Quantize

enum DSPLowering {
    /// Weight width.
    static let weightBits = 8
    /// Requantization multiplier width (unsigned).
    static let multiplierBits = 15

    static func lower(_ c: LayerContext, lanes requestedLanes: Int, options o: DSPOptions) throws -> DSPKernel {
        let layer = c.layer
        func option(_ ok: Bool, _ reason: String) throws {
            if !ok { throw LoweringError.unsupported(file: c.file, node: c.node, reason: reason) }
        }
        try option(o.blockSize >= 1 && o.kept >= 1 && o.kept <= o.blockSize, "sparsity \(o.kept):\(o.blockSize) must have 1 ≤ N ≤ M")
        try option(o.unit >= 1, "sparsity unit must be at least 1, got \(o.unit)")
        // With units of several weights the kernel's block is M units and keeps N units of weights.
        let m = o.blockSize * o.unit, n = o.kept * o.unit
        let chain = o.chainLength ?? n
        try option(chain >= n && chain % n == 0, "chain length \(chain) must be a positive multiple of the \(n) weights kept per block")
        let group = o.groupSize ?? chain
        try option(group >= 1 && group <= chain, "group size \(group) must be in 1...\(chain)")
        let blocks = (layer.inputCount + m - 1) / m
        let blocksPerCycle = min(chain / n, blocks)

        let kept = layer.weight.map { NMPruning.keptOffsets(row: $0, n: o.kept, m: o.blockSize, unit: o.unit) }
        let pruned = zip(layer.weight, kept).map { NMPruning.apply($0, kept: $1, m: m) }
        let (codes, wScales) = WeightQuantizer.perChannel(rows: pruned, bits: weightBits)
        var values: [Int] = [], offsets: [Int] = []
        for (row, blocksKept) in zip(codes, kept) {
            for (b, offs) in blocksKept.enumerated() {
                for i in offs {
                    values.append(b * m + i < row.count ? row[b * m + i] : 0)
                    offsets.append(i)
                }
            }
        }
        var biases: [Int] = []
        var requantizers: [Requantizer] = []
        for out in 0..<layer.outputCount {
            let accScale = c.inputScale * wScales[out]
            let b = roundHalfEven(Double(layer.bias[out]) / accScale)
            guard abs(b) < Double(Int32.max) else {
                throw c.unprovable("bias of output \(out) is \(b) at accumulator scale, beyond int32")
            }
            biases.append(Int(b))
            guard let q = MultiplierQuantizer.quantize(accScale / c.output.requantScale, bits: multiplierBits) else {
                throw c.unprovable("requantization ratio \(accScale / c.output.requantScale) of output \(out) is too large for a \(multiplierBits)-bit multiplier")
            }
            requantizers.append(Requantizer(multiplier: q.multiplier, shift: q.shift))
        }

        // Proven bounds: |acc| ≤ |b| + Σ|w|·max|x| over the stored weights of every output.
        let xMag = max(abs(c.input.min), abs(c.input.max))
        let perOutput = blocks * n
        var accBound = 0
        for out in 0..<layer.outputCount {
            let sumW = values[(out * perOutput)..<((out + 1) * perOutput)].reduce(0) { $0 + abs($1) }
            accBound = max(accBound, abs(biases[out]) + sumW * xMag)
        }
        let wType = IntType.int(weightBits)
        let bType = IntType.signedFitting(biases.min() ?? 0, biases.max() ?? 0)!
        guard let bounded = IntType.signedFitting(-accBound, accBound) else {
            throw c.unprovable("accumulator bound \(accBound) needs more than 62 bits")
        }
        // At least one product plus a guard bit, and wider than the bias, so the
        // datapath's sign extensions are never empty (RTL/lf_dsp_chain.v).
        let accType = IntType.int(max(bounded.bits, wType.bits + c.input.bits + 2, bType.bits + 1))
        let mMax = requantizers.map(\.multiplier).max() ?? 0
        let sMax = requantizers.map(\.shift).max() ?? 1
        let mType = IntType.uint(multiplierBits)
        let (hi, overflow) = accBound.multipliedReportingOverflow(by: mMax)
        guard !overflow, let scaledFit = IntType.signedFitting(-hi, hi + (1 << (sMax - 1))) else {
            throw c.unprovable("requantization product needs more than 62 bits")
        }
        // Wider than the accumulator and the multiplier, and able to hold the clamp bounds (RTL/lf_round_clamp.v).
        let scaledType = IntType.int(max(scaledFit.bits, accType.bits + 1, mType.bits + 2, c.output.requantized.bits + 1))

        let lanes = max(1, min(requestedLanes, layer.outputCount))
        let passes = (layer.outputCount + lanes - 1) / lanes
        let schedule = DSPKernel.schedule(inputCount: layer.inputCount, outputCount: layer.outputCount, lanes: lanes,
                                          blocks: blocks, blocksPerCycle: blocksPerCycle, table: c.output.table != nil)
        return DSPKernel(
            name: layer.name, sourceNodes: layer.nodes, inputCount: layer.inputCount, outputCount: layer.outputCount,
            lanes: lanes, blockSize: m, kept: n, blocksPerCycle: blocksPerCycle, groupSize: min(group, blocksPerCycle * n),
            input: c.input, weight: wType, bias: bType, accumulator: accType, multiplier: mType,
            shift: IntType.unsignedFitting(sMax)!, scaled: scaledType, requantized: c.output.requantized,
            table: c.output.table, values: values, offsets: offsets, biases: biases, requantizers: requantizers,
            inputScale: c.inputScale, outputScale: c.output.outputScale, schedule: schedule)
    }
}
