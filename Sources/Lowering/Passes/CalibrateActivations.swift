// calibrate-activations: runs the float model on the calibration vectors and
// records the range of every value (the model input included). An already-quantized
// model reads only its input's range (for LUTForge's own input quantizer when the
// model has none), so in that mode the float model is not run.
import ModelGraph
import Quantize
import ReferenceEngine

/// Fills `state.ranges`.
public struct CalibrateActivations: Pass {
    public static let name = "calibrate-activations"
    public static let summary = "record the range of every value on the calibration vectors"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        let vectors = state.options.calibration
        guard !vectors.isEmpty else { throw LoweringError.calibration(file: state.file, reason: "no calibration vectors") }
        let width = state.shapes[state.graph.inputs[0].name]?.reduce(1, *) ?? vectors[0].count
        if let bad = vectors.first(where: { $0.count != width }) {
            throw LoweringError.calibration(file: state.file, reason: "vectors have \(bad.count) elements, the model takes \(width)")
        }
        if vectors.contains(where: { $0.contains { !$0.isFinite } }) {
            throw LoweringError.calibration(file: state.file, reason: "vectors contain NaN or infinity")
        }
        var lo: [String: Float] = [:], hi: [String: Float] = [:]
        if state.mode != .float {
            let input = state.graph.inputs[0].name
            lo[input] = vectors.lazy.compactMap { $0.min() }.min() ?? 0
            hi[input] = vectors.lazy.compactMap { $0.max() }.max() ?? 0
        }
        for v in vectors where state.mode == .float {
            let env: [String: FloatTensor]
            do { env = try FloatInterpreter.evaluate(state.graph, input: v) } catch let e as FloatInterpreterError {
                throw LoweringError.unsupported(file: state.file, node: e.node, reason: e.reason)
            }
            for (name, t) in env where state.graph.initializers[name] == nil {
                var l = lo[name] ?? .infinity, h = hi[name] ?? -.infinity
                for x in t.data {
                    l = min(l, x)
                    h = max(h, x)
                }
                lo[name] = l
                hi[name] = h
            }
        }
        state.ranges = lo.keys.reduce(into: [:]) { r, name in
            r[name] = ObservedRange(min: Double(lo[name]!.isFinite ? lo[name]! : 0), max: Double(hi[name]!.isFinite ? hi[name]! : 0))
        }
    }
}
