// fold-scalar-ops (float models): Mul, Div, Add and Sub by a constant (scalar or
// one value per output) right after a fully connected layer are folded into its
// weights and bias. Others stay and are lowered as elementwise kernels.
import ModelGraph

/// Folds constant scales and offsets into the preceding layer.
public struct FoldScalarOps: Pass {
    public static let name = "fold-scalar-ops"
    public static let summary = "fold Mul/Div/Add/Sub by constants into the preceding fully connected layer"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        var changed = true
        while changed {
            changed = false
            for node in state.graph.nodes {
                let kind: Int
                switch node.op {
                case .mul: kind = 0
                case .div: kind = 1
                case .add: kind = 2
                case .sub: kind = 3
                default: continue
                }
                // The activation input and the constant (Div and Sub need the activation first).
                guard let a = node.inputs.firstIndex(where: { state.graph.initializers[$0] == nil }),
                      let c = state.graph.initializers[node.inputs[1 - a]], kind < 1 || a == 0 || kind == 2,
                      let m = LinearMatch.ending(at: node.inputs[a], in: state.graph),
                      m.bias != nil || kind != 2,
                      state.graph.consumers(of: node.inputs[a]).count == 1 else { continue }
                let (w, b, n) = state.linearParameters(m)
                guard c.count == 1 || (c.count == n && c.shape.last == n) else { continue }
                let k = w.count / n
                func cv(_ j: Int) -> Float { c.count == 1 ? c.data[0] : c.data[j] }
                var w2 = w, b2 = b
                switch kind {
                case 0, 1:
                    for j in 0..<n {
                        let f = kind == 0 ? cv(j) : 1 / cv(j)
                        for i in 0..<k { w2[i * n + j] = w[i * n + j] * f }
                        b2[j] = b[j] * f
                    }
                case 2: for j in 0..<n { b2[j] = b[j] + cv(j) }
                default: for j in 0..<n { b2[j] = b[j] - cv(j) }
                }
                state.rewriteLinear(m, weight: w2, bias: b2, output: node.outputs[0], removing: [node.name])
                state.notes.append("\(node.op.onnxName) '\(node.name)' by a constant folded into '\(m.matMul.name)'")
                changed = true
                break
            }
        }
    }
}
