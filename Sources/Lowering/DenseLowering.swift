// Dense int8 kernels: per-channel symmetric weights, integer bias and
// requantizers, widths proven from the actual weights (docs/numerics.md).
import HardwareIR
import Quantize

enum DenseLowering {
    /// Weight width.
    static let weightBits = 8
    /// Requantization multiplier width (unsigned): fits one DSP operand.
    static let multiplierBits = 15

    static func lower(_ c: LayerContext, lanes requestedLanes: Int) throws -> DenseKernel {
        let layer = c.layer
        let (codes, wScales) = WeightQuantizer.perChannel(rows: layer.weight, bits: weightBits)
        var biases: [Int] = []
        var requantizers: [Requantizer] = []
        for n in 0..<layer.outputCount {
            let accScale = c.inputScale * wScales[n]
            let b = roundHalfEven(Double(layer.bias[n]) / accScale)
            guard abs(b) < Double(Int32.max) else {
                throw c.unprovable("bias of output \(n) is \(b) at accumulator scale, beyond int32")
            }
            biases.append(Int(b))
            guard let q = MultiplierQuantizer.quantize(accScale / c.output.requantScale, bits: multiplierBits) else {
                throw c.unprovable("requantization ratio \(accScale / c.output.requantScale) of output \(n) is too large for a \(multiplierBits)-bit multiplier")
            }
            requantizers.append(Requantizer(multiplier: q.multiplier, shift: q.shift))
        }

        // Proven bounds: |acc| ≤ |b| + Σ|w|·max|x| for every output.
        let xMag = max(abs(c.input.min), abs(c.input.max))
        var accBound = 0
        for n in 0..<layer.outputCount {
            accBound = max(accBound, abs(biases[n]) + codes[n].reduce(0) { $0 + abs($1) } * xMag)
        }
        let wType = IntType.int(weightBits)
        let bType = IntType.signedFitting(biases.min() ?? 0, biases.max() ?? 0)!
        guard let bounded = IntType.signedFitting(-accBound, accBound) else {
            throw c.unprovable("accumulator bound \(accBound) needs more than 62 bits")
        }
        // At least one product plus a guard bit, and wider than the bias, so the
        // datapath's sign extensions are never empty (RTL/lf_dense.v).
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
        let schedule = KernelSchedule(
            passes: passes, loadCycles: layer.inputCount, computeCycles: passes * layer.inputCount,
            drainCycles: LowerLayers.drainCycles + (c.output.table == nil ? 0 : LowerLayers.tableDrainCycles),
            emitCycles: layer.outputCount)
        return DenseKernel(
            name: layer.name, sourceNodes: layer.nodes, inputCount: layer.inputCount, outputCount: layer.outputCount,
            lanes: lanes, input: c.input, weight: wType, bias: bType, accumulator: accType, multiplier: mType,
            shift: IntType.unsignedFitting(sMax)!, scaled: scaledType, requantized: c.output.requantized,
            table: c.output.table, weights: codes.flatMap { $0 }, biases: biases, requantizers: requantizers,
            inputScale: c.inputScale, outputScale: c.output.outputScale, schedule: schedule)
    }
}
