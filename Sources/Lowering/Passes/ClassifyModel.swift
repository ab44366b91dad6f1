// classify-model: an already-quantized model (QONNX quantizers, ONNX QDQ or integer
// ops, or an input annotated with an integer datatype) is lowered exactly; anything
// else is a float model that LUTForge quantizes itself.
import ModelGraph

/// Decides `state.mode`, and refuses up front what LUTForge never lowers (so the message
/// names the construct, not a shape error it causes later).
public struct ClassifyModel: Pass {
    public static let name = "classify-model"
    public static let summary = "tell quantized (QONNX, QDQ) models from float models; refuse activations used as weights"

    public init() {}

    /// Whether `op` quantizes or computes on integers.
    static func isQuantized(_ op: Op) -> Bool {
        switch op {
        case .quant, .bipolarQuant, .trunc, .multiThreshold, .quantizeLinear, .dequantizeLinear, .qLinearMatMul, .matMulInteger,
             .qLinearConv, .convInteger: true
        default: false
        }
    }

    public func run(_ state: inout LoweringState) throws {
        // Values computed from constants only (a quantizer on an initializer, say).
        var constant = Set(state.graph.initializers.keys)
        for node in state.graph.nodes where node.inputs.allSatisfy({ $0.isEmpty || constant.contains($0) }) {
            constant.formUnion(node.outputs)
        }
        for node in state.graph.nodes {
            switch node.op {
            case let .gemm(_, _, transA, _):
                if transA { throw state.unsupported(node.name, "Gemm with transA=1 on the activation is not supported") }
                fallthrough
            case .matMul, .matMulInteger, .qLinearMatMul:
                let w = node.op == .qLinearMatMul ? 3 : 1
                if node.inputs.count > w, !constant.contains(node.inputs[w]) {
                    throw state.unsupported(node.name, "input \(w) must be a constant initializer (LUTForge compiles fixed weights)")
                }
            default: break
            }
        }
        let annotated = state.graph.inputs.contains { state.graph.datatypes[$0.name].map { $0 != "FLOAT32" } ?? false }
        state.mode = annotated || state.graph.nodes.contains { Self.isQuantized($0.op) } ? .quantized : .float
    }
}
