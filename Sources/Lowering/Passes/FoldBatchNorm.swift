// fold-batch-norm (float models): a BatchNormalization right after a fully
// connected layer or a convolution is folded into its weights and bias,
// `W' = W·ns`, `b' = b·ns + nb` per output channel with onnxruntime's coefficients.
// One that follows anything else stays and is lowered as an elementwise kernel.
import ModelGraph
import ReferenceEngine

/// Folds batch norms into the preceding layer.
public struct FoldBatchNorm: Pass {
    public static let name = "fold-batch-norm"
    public static let summary = "fold BatchNormalization into the preceding fully connected or convolution layer"

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
            if !changed { changed = foldIntoConv(&state) }
        }
    }

    /// One batch norm after a Conv with constant weights (and bias) folded into them.
    func foldIntoConv(_ state: inout LoweringState) -> Bool {
        let g = state.graph
        for node in g.nodes {
            guard case let .batchNormalization(eps) = node.op,
                  let ci = g.nodes.firstIndex(where: { $0.outputs.first == node.inputs[0] }), case .conv = g.nodes[ci].op,
                  g.consumers(of: node.inputs[0]).count == 1, !g.outputs.contains(where: { $0.name == node.inputs[0] }),
                  let w = g.initializers[g.nodes[ci].inputs[1]] else { continue }
            let conv = g.nodes[ci]
            let cout = w.shape[0]
            let params = (1...4).map { g.initializers[node.inputs[$0]] }
            guard params.allSatisfy({ $0?.count == cout }) else { continue }
            let bias = conv.inputs.count > 2 && !conv.inputs[2].isEmpty ? g.initializers[conv.inputs[2]] : FloatTensor(shape: [cout], data: [Float](repeating: 0, count: cout))
            guard let b = bias, b.count == cout else { continue }
            let coeff = (0..<cout).map { QuantArith.batchNormCoefficients(gamma: params[0]!.data[$0], beta: params[1]!.data[$0], mean: params[2]!.data[$0],
                                                                         variance: params[3]!.data[$0], epsilon: eps) }
            let per = w.count / cout
            var w2 = w
            for o in 0..<cout { for i in 0..<per { w2.data[o * per + i] = w.data[o * per + i] * coeff[o].scale } }
            let b2 = FloatTensor(shape: [cout], data: (0..<cout).map { b.data[$0] * coeff[$0].scale + coeff[$0].bias })
            let wName = conv.name + "_weight_bn", bName = conv.name + "_bias_bn"
            state.graph.initializers[wName] = w2
            state.graph.initializers[bName] = b2
            var rewritten = conv
            rewritten.inputs = [conv.inputs[0], wName, bName]
            rewritten.outputs = [node.outputs[0]]
            state.graph.nodes[ci] = rewritten
            state.graph.nodes.removeAll { $0.name == node.name }
            state.shapes[node.outputs[0]] = state.shapes[node.outputs[0]] ?? state.shapes[conv.outputs[0]]
            state.notes.append("BatchNormalization '\(node.name)' folded into the weights and bias of '\(conv.name)'")
            return true
        }
        return false
    }
}
