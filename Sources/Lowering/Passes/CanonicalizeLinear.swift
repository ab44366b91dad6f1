// canonicalize-linear (float models): every Gemm becomes MatMul(x, W[in, out]) +
// Add(b), alpha, beta and the transposes folded into fresh initializers, so the
// folding passes and the layer recovery see one form of fully connected layer.
import ModelGraph

/// Rewrites Gemm into MatMul + Add.
public struct CanonicalizeLinear: Pass {
    public static let name = "canonicalize-linear"
    public static let summary = "rewrite Gemm into MatMul + Add with constant [in, out] weights"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        var graph = state.graph
        var nodes: [Node] = []
        for node in graph.nodes {
            guard case let .gemm(alpha, beta, transA, transB) = node.op else { nodes.append(node); continue }
            if transA { throw state.unsupported(node.name, "Gemm with transA=1 on the activation is not supported") }
            guard let b = graph.initializers[node.inputs[1]] else {
                throw state.unsupported(node.name, "input 1 must be a constant initializer (LUTForge compiles fixed weights)")
            }
            guard b.rank == 2 else { throw state.unsupported(node.name, "B must be 2-D, got shape \(b.shape)") }
            let (k, n) = transB ? (b.shape[1], b.shape[0]) : (b.shape[0], b.shape[1])
            guard k > 0, n > 0 else { throw state.unsupported(node.name, "empty weight matrix") }
            var w = [Float](repeating: 0, count: k * n)
            for i in 0..<k { for j in 0..<n { w[i * n + j] = alpha * (transB ? b.data[j * k + i] : b.data[i * n + j]) } }
            let wName = "\(node.name)__w", mm = "\(node.name)__mm"
            graph.initializers[wName] = FloatTensor(shape: [k, n], data: w)
            if node.inputs.count > 2, !node.inputs[2].isEmpty {
                guard let c = graph.initializers[node.inputs[2]] else { throw state.unsupported(node.name, "the bias C must be a constant initializer") }
                let bias: [Float]
                if c.count == n, c.shape.filter({ $0 != 1 }).count <= 1 { bias = c.data.map { beta * $0 } }
                else if c.count == 1 { bias = [Float](repeating: beta * c.data[0], count: n) }
                else { throw state.unsupported(node.name, "bias of shape \(c.shape) does not broadcast to \(n) outputs") }
                graph.initializers["\(node.name)__b"] = FloatTensor(shape: [n], data: bias)
                nodes.append(Node(name: node.name, op: .matMul, inputs: [node.inputs[0], wName], outputs: [mm]))
                // The bias Add keeps the Gemm's name: messages and per-layer options name the model's node.
                nodes.append(Node(name: node.name, op: .add, inputs: [mm, "\(node.name)__b"], outputs: node.outputs))
            } else {
                nodes.append(Node(name: node.name, op: .matMul, inputs: [node.inputs[0], wName], outputs: node.outputs))
            }
            state.shapes[mm] = state.shapes[node.outputs[0]]
        }
        graph.nodes = nodes
        state.graph = graph
    }
}

/// The pieces of a fully connected layer in canonical form: `MatMul(x, W) [+ Add(b)]`.
struct LinearMatch {
    /// The MatMul node.
    var matMul: Node
    /// The bias Add, when there is one.
    var bias: Node?
    /// Name of the weight initializer, `[in, out]`.
    var weight: String
    /// Name of the bias initializer.
    var biasName: String?
    /// The value after the bias.
    var output: String

    /// The canonical layer whose last node defines `value`, if `value` is one's output and every
    /// intermediate value has a single reader.
    static func ending(at value: String, in graph: Graph) -> LinearMatch? {
        guard let last = graph.producer(of: value) else { return nil }
        if case .matMul = last.op, graph.initializers[last.inputs[1]]?.rank == 2, graph.initializers[last.inputs[0]] == nil {
            return LinearMatch(matMul: last, bias: nil, weight: last.inputs[1], biasName: nil, output: value)
        }
        guard case .add = last.op else { return nil }
        for (i, input) in last.inputs.enumerated() {
            guard let mm = graph.producer(of: input), case .matMul = mm.op, graph.initializers[mm.inputs[1]]?.rank == 2,
                  graph.initializers[mm.inputs[0]] == nil, graph.consumers(of: input).count == 1,
                  let c = graph.initializers[last.inputs[1 - i]] else { continue }
            let n = graph.initializers[mm.inputs[1]]!.shape[1]
            guard c.count == n || c.count == 1 else { return nil }
            return LinearMatch(matMul: mm, bias: last, weight: mm.inputs[1], biasName: last.inputs[1 - i], output: value)
        }
        return nil
    }
}

extension LoweringState {
    /// Replaces the layer `m` by `MatMul(x, W') + Add(b')` with new initializers, defining `output` instead.
    mutating func rewriteLinear(_ m: LinearMatch, weight: [Float], bias: [Float], output: String, removing removed: Set<String>) {
        let w = graph.initializers[m.weight]!
        let (k, n) = (w.shape[0], w.shape[1])
        let tag = m.matMul.name
        let wName = "\(tag)__w\(graph.initializers.count)", bName = "\(tag)__b\(graph.initializers.count)"
        graph.initializers[wName] = FloatTensor(shape: [k, n], data: weight)
        graph.initializers[bName] = FloatTensor(shape: [n], data: bias)
        let mmOut = m.bias.map { _ in m.matMul.outputs[0] } ?? "\(tag)__mm\(graph.initializers.count)"
        var nodes: [Node] = []
        for node in graph.nodes where !removed.contains(node.name) || node.outputs == m.matMul.outputs {
            if node.outputs == m.matMul.outputs {
                nodes.append(Node(name: node.name, op: .matMul, inputs: [node.inputs[0], wName], outputs: [mmOut]))
                let biasNode = m.bias?.name ?? tag
                nodes.append(Node(name: biasNode, op: .add, inputs: [mmOut, bName], outputs: [output]))
                shapes[mmOut] = shapes[m.output]
            } else if node.outputs != m.bias?.outputs {
                nodes.append(node)
            }
        }
        graph.nodes = nodes
        shapes[output] = shapes[m.output]
    }

    /// Weights `[in, out]` and bias `[out]` of a canonical layer.
    func linearParameters(_ m: LinearMatch) -> (weight: [Float], bias: [Float], outputs: Int) {
        let w = graph.initializers[m.weight]!
        let n = w.shape[1]
        var bias = [Float](repeating: 0, count: n)
        if let name = m.biasName, let b = graph.initializers[name] {
            bias = b.count == 1 ? [Float](repeating: b.data[0], count: n) : b.data
        }
        return (w.data, bias, n)
    }
}
