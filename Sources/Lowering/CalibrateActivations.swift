// calibrate-activations: runs the float model on the calibration vectors and
// records the range of the input and of every layer's pre-activation and output.
import ModelGraph
import Quantize
import ReferenceEngine

/// Observes activation ranges with the float interpreter.
public struct CalibrateActivations: Pass {
    public static let name = "calibrate-activations"
    public static let summary = "record input and per-layer activation ranges on calibration vectors"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        let vectors = state.options.calibration
        guard !vectors.isEmpty else { throw LoweringError.calibration(file: state.file, reason: "no calibration vectors") }
        let width = state.layers[0].inputCount
        if let bad = vectors.first(where: { $0.count != width }) {
            throw LoweringError.calibration(file: state.file, reason: "vectors have \(bad.count) elements, the model takes \(width)")
        }
        if vectors.contains(where: { $0.contains { !$0.isFinite } }) {
            throw LoweringError.calibration(file: state.file, reason: "vectors contain NaN or infinity")
        }
        var input: [Float] = []
        var pre = [[Float]](repeating: [], count: state.layers.count)
        var post = pre
        for v in vectors {
            let env: [String: FloatTensor]
            do { env = try FloatInterpreter.evaluate(state.graph, input: v) } catch let e as FloatInterpreterError {
                throw LoweringError.unsupported(file: state.file, node: e.node, reason: e.reason)
            }
            input += v
            for (i, layer) in state.layers.enumerated() {
                pre[i] += env[layer.preActivationValue]!.data
                post[i] += env[layer.outputValue]!.data
            }
        }
        state.inputRange = ObservedRange(values: input)
        state.ranges = zip(pre, post).map { LayerRanges(preActivation: ObservedRange(values: $0), output: ObservedRange(values: $1)) }
    }
}
