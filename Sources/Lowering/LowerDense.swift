// lower-dense: quantizes each linear layer (per-channel int8 weights, calibrated
// 8-bit activations, integer bias and requantizers), proves every width from the
// actual weights, and schedules it on the streaming multiply-accumulate datapath.
import Foundation
import HardwareIR
import Quantize

/// Produces the Program of dense int8 kernels.
public struct LowerDense: Pass {
    public static let name = "lower-dense"
    public static let summary = "quantize layers to int8 dense kernels with proven widths and a cycle schedule"

    /// Weight width.
    static let weightBits = 8
    /// Requantization multiplier width (unsigned): fits one DSP operand.
    static let multiplierBits = 15
    /// Cycles from the last multiply-accumulate issue to the last stored output in `RTL/lf_dense.v`.
    static let drainCycles = 4
    /// Extra drain cycle for the activation table read.
    static let tableDrainCycles = 1

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        guard let inputRange = state.inputRange else { preconditionFailure("lower-dense runs after calibrate-activations") }
        let file = state.file
        // The model input: unsigned when calibration never saw a negative value.
        var xType: IntType = inputRange.min >= 0 ? .uint(8) : .int(8)
        var xScale = inputRange.min >= 0 ? ActivationQuantizer.unsignedScale(inputRange, bits: 8)
                                         : ActivationQuantizer.signedScale(inputRange, bits: 8)
        let programInput = (xType, xScale)
        var kernels: [DenseKernel] = []
        for (index, layer) in state.layers.enumerated() {
            let ranges = state.ranges[index]
            let node = layer.nodes[0]
            let isLast = index == state.layers.count - 1
            // Output type and scale of the requantizer, and the optional table after it.
            var rType: IntType
            var rScale: Double
            var table: ActivationTable?
            var yScale: Double
            switch layer.activation {
            case .relu:
                rType = .uint(8)
                rScale = ActivationQuantizer.unsignedScale(ranges.output, bits: 8)
                yScale = rScale
            case .sigmoid:
                rType = .int(8)
                rScale = ActivationQuantizer.signedScale(ranges.preActivation, bits: 8)
                let out = IntType.uint(8)
                let values = (rType.min...rType.max).map { v -> Int in
                    let s = 1 / (1 + exp(-Double(v) * rScale))
                    return Int(roundHalfEven(s * Double(out.max)))
                }
                table = ActivationTable(function: "sigmoid", input: rType, output: out, values: values)
                yScale = 1 / Double(out.max)
            case .none:
                // Logits before a dropped Softmax keep 16 bits so argmax ties stay rare.
                let bits = isLast && state.finalSoftmax != nil ? 16 : 8
                rType = .int(bits)
                rScale = ActivationQuantizer.signedScale(ranges.output, bits: bits)
                yScale = rScale
            }

            let (codes, wScales) = WeightQuantizer.perChannel(rows: layer.weight, bits: Self.weightBits)
            var biases: [Int] = []
            var requantizers: [Requantizer] = []
            for n in 0..<layer.outputCount {
                let accScale = xScale * wScales[n]
                let b = roundHalfEven(Double(layer.bias[n]) / accScale)
                guard abs(b) < Double(Int32.max) else {
                    throw LoweringError.unprovable(file: file, node: node, reason: "bias of output \(n) is \(b) at accumulator scale, beyond int32")
                }
                biases.append(Int(b))
                guard let q = MultiplierQuantizer.quantize(accScale / rScale, bits: Self.multiplierBits) else {
                    throw LoweringError.unprovable(file: file, node: node, reason: "requantization ratio \(accScale / rScale) of output \(n) is too large for a \(Self.multiplierBits)-bit multiplier")
                }
                requantizers.append(Requantizer(multiplier: q.multiplier, shift: q.shift))
            }

            // Proven bounds: |acc| ≤ |b| + Σ|w|·max|x| for every output.
            let xMag = max(abs(xType.min), abs(xType.max))
            var accBound = 0
            for n in 0..<layer.outputCount {
                let sumW = codes[n].reduce(0) { $0 + abs($1) }
                accBound = max(accBound, abs(biases[n]) + sumW * xMag)
            }
            let wType = IntType.int(Self.weightBits)
            let bType = IntType.signedFitting(biases.min() ?? 0, biases.max() ?? 0)!
            // At least one product plus a guard bit, and wider than the bias, so the
            // datapath's sign extensions are never empty (RTL/lf_dense.v).
            let productBits = wType.bits + xType.bits + 1
            guard let bounded = IntType.signedFitting(-accBound, accBound) else {
                throw LoweringError.unprovable(file: file, node: node, reason: "accumulator bound \(accBound) needs more than 62 bits")
            }
            let accType = IntType.int(max(bounded.bits, productBits + 1, bType.bits + 1))
            let mMax = requantizers.map(\.multiplier).max() ?? 0
            let sMax = requantizers.map(\.shift).max() ?? 1
            let mType = IntType.uint(Self.multiplierBits)
            let sType = IntType.unsignedFitting(sMax)!
            let (hi, o1) = accBound.multipliedReportingOverflow(by: mMax)
            guard !o1, let scaledFit = IntType.signedFitting(-hi, hi + (1 << (sMax - 1))) else {
                throw LoweringError.unprovable(file: file, node: node, reason: "requantization product needs more than 62 bits")
            }
            let scaledType = IntType.int(max(scaledFit.bits, accType.bits + 1, mType.bits + 2))

            let lanes = max(1, min(state.options.lanes, layer.outputCount))
            let passes = (layer.outputCount + lanes - 1) / lanes
            let schedule = KernelSchedule(
                passes: passes, loadCycles: layer.inputCount, computeCycles: passes * layer.inputCount,
                drainCycles: Self.drainCycles + (table == nil ? 0 : Self.tableDrainCycles), emitCycles: layer.outputCount)
            kernels.append(DenseKernel(
                name: layer.name, sourceNodes: layer.nodes, inputCount: layer.inputCount, outputCount: layer.outputCount,
                lanes: lanes, input: xType, weight: wType, bias: bType, accumulator: accType, multiplier: mType,
                shift: sType, scaled: scaledType, requantized: rType, table: table, weights: codes.flatMap { $0 },
                biases: biases, requantizers: requantizers, inputScale: xScale, outputScale: yScale, schedule: schedule))
            xType = table?.output ?? rType
            xScale = yScale
        }
        let meaning: OutputMeaning = state.finalSoftmax.map { .logits(softmaxNode: $0) } ?? .values
        state.program = Program(
            name: state.graph.name.isEmpty ? "model" : state.graph.name,
            sourceFile: URL(fileURLWithPath: file).lastPathComponent,
            input: programInput.0, inputCount: state.layers[0].inputCount, inputScale: programInput.1,
            kernels: kernels, outputMeaning: meaning, calibration: state.options.calibrationSource)
    }
}
