// lower-layers: quantizes each linear layer into the kernel its options ask for
// (dense int8 multiply-accumulate, or LUT-linear), with every width proven from
// the actual integers, and schedules it on the streaming datapath.
import Foundation
import HardwareIR
import Quantize
import ReferenceEngine

/// How a layer's result is represented: the requantizer's type and scale, and an optional table.
struct OutputQuantization {
    /// Type the requantizer clamps to.
    var requantized: IntType
    /// Real value of one requantized step.
    var requantScale: Double
    /// Table after the requantizer (sigmoid).
    var table: ActivationTable?
    /// Real value of one output step.
    var outputScale: Double

    /// ReLU → u8; none → i8 (i16 logits before a dropped Softmax); sigmoid → i8 then a table to u8.
    init(_ layer: LinearLayer, _ ranges: LayerRanges, logits: Bool) {
        switch layer.activation {
        case .relu:
            requantized = .uint(8)
            requantScale = ActivationQuantizer.unsignedScale(ranges.output, bits: 8)
            outputScale = requantScale
        case .sigmoid:
            let r = IntType.int(8), out = IntType.uint(8)
            let scale = ActivationQuantizer.signedScale(ranges.preActivation, bits: 8)
            requantized = r
            requantScale = scale
            table = ActivationTable(function: "sigmoid", input: r, output: out, values: (r.min...r.max).map { v in
                Int(roundHalfEven(Double(out.max) / (1 + exp(-Double(v) * scale))))
            })
            outputScale = 1 / Double(out.max)
        case .none:
            let bits = logits ? 16 : 8
            requantized = .int(bits)
            requantScale = ActivationQuantizer.signedScale(ranges.output, bits: bits)
            outputScale = requantScale
        }
    }
}

/// Lowers every layer to a kernel.
public struct LowerLayers: Pass {
    public static let name = "lower-layers"
    public static let summary = "quantize layers to dense int8 or LUT-linear kernels with proven widths and a cycle schedule"

    /// Pipeline cycles from the accumulator to the last stored output (`RTL/lf_dsp_chain.v`, `RTL/lf_lut_linear.v`).
    static let drainCycles = 4
    /// Extra drain cycle for the activation table read (`RTL/lf_lane_store.v`).
    static let tableDrainCycles = 1

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        guard let inputRange = state.inputRange else { preconditionFailure("lower-layers runs after calibrate-activations") }
        // The model input: unsigned when calibration never saw a negative value.
        var xType: IntType = inputRange.min >= 0 ? .uint(8) : .int(8)
        var xScale = inputRange.min >= 0 ? ActivationQuantizer.unsignedScale(inputRange, bits: 8)
                                         : ActivationQuantizer.signedScale(inputRange, bits: 8)
        let programInput = (xType, xScale)
        let layerOptions = state.layers.map { state.options.options(for: $0) }
        // Integer activations of the calibration set, for activation codebooks, when any layer needs them.
        var calibration: [[Int]] = []
        if layerOptions.contains(where: { $0.kind == .lut }) {
            calibration = state.options.calibration.map { v in
                v.map { ActivationQuantizer.quantize(Double($0), scale: xScale, lo: xType.min, hi: xType.max) }
            }
        }
        var kernels: [Kernel] = []
        for (index, layer) in state.layers.enumerated() {
            let options = layerOptions[index]
            let isLast = index == state.layers.count - 1
            let out = OutputQuantization(layer, state.ranges[index], logits: isLast && state.finalSoftmax != nil)
            let context = LayerContext(file: state.file, layer: layer, input: xType, inputScale: xScale, output: out)
            let kernel: Kernel
            switch options.kind {
            case .dsp:
                kernel = .dsp(try DSPLowering.lower(context, lanes: options.lanes, options: options.dsp))
            case .lut:
                let (k, notes) = try LUTLowering.lower(context, options: options.lut, calibration: calibration, seed: state.options.seed &+ UInt64(index) << 32)
                kernel = .lut(k)
                state.notes += notes
            }
            if options.kind == .lut || (index + 1 < layerOptions.count && layerOptions[(index + 1)...].contains { $0.kind == .lut }) {
                calibration = try calibration.map { try IntegerEngine.run(kernel, $0) }
            }
            kernels.append(kernel)
            xType = kernel.output
            xScale = kernel.outputScale
        }
        let meaning: OutputMeaning = state.finalSoftmax.map { .logits(softmaxNode: $0) } ?? .values
        state.program = Program(
            name: state.graph.name.isEmpty ? "model" : state.graph.name,
            sourceFile: URL(fileURLWithPath: state.file).lastPathComponent,
            input: programInput.0, inputCount: state.layers[0].inputCount, inputScale: programInput.1,
            kernels: kernels, outputMeaning: meaning, calibration: state.options.calibrationSource)
    }
}

/// What a kernel builder needs to know about its layer.
struct LayerContext {
    var file: String
    var layer: LinearLayer
    var input: IntType
    var inputScale: Double
    var output: OutputQuantization

    /// The node named in messages.
    var node: String { layer.nodes[0] }

    func unprovable(_ reason: String) -> LoweringError { .unprovable(file: file, node: node, reason: reason) }
}
