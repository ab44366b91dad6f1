// fold-batch-norm (float models): a BatchNormalization right after a fully
// connected layer is folded into its weights and bias, `W' = W·ns`, `b' = b·ns + nb`
// with onnxruntime's coefficients. One that follows anything else stays and is
// lowered as an elementwise kernel.
import ModelGraph
import ReferenceEngine

/// Folds batch norms into the preceding layer.
public struct FoldBatchNorm: Pass {
    public static let name = "fold-batch-norm"
    public static let summary = "fold BatchNormalization into the preceding fully connected layer"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        var changed = true
        while changed {
            changed = false
            for node in state.graph.nodes {
                guard case let .batchNormalization(eps) = node.op,
                      let m = LinearMatch.ending(at: node.inputs[0], in: state.graph),
                      state.graph.consumers(of: node.inputs[0]).count == 1,
                      let params = (1...4).map({ state.graph.initializers[node.inputs[$0]] }) as [FloatTensor?]?,
                      params.allSatisfy({ $0 != nil }) else { continue }
                let (w, b, n) = state.linearParameters(m)
                guard params.allSatisfy({ $0!.count == n }) else { continue }
                let k = w.count / n
                let coeff = (0..<n).map { QuantArith.batchNormCoefficients(gamma: params[0]!.data[$0], beta: params[1]!.data[$0], mean: params[2]!.data[$0],
                                                                          variance: params[3]!.data[$0], epsilon: eps) }
                var w2 = w
                for i in 0..<k { for j in 0..<n { w2[i * n + j] = w[i * n + j] * coeff[j].scale } }
                let b2 = (0..<n).map { b[$0] * coeff[$0].scale + coeff[$0].bias }
                state.rewriteLinear(m, weight: w2, bias: b2, output: node.outputs[0], removing: [node.name])
                state.notes.append("BatchNormalization '\(node.name)' folded into the weights and bias of '\(m.matMul.name)'")
                changed = true
                break
            }
        }
    }
}
