// fold-constants: nodes that compute only on constants (shape sub-graphs feeding a
// Reshape, transposed or scaled weights) become initializers; `Shape` of a value
// with a static shape is a constant too. Quantizers are kept: the lowering reads
// the integers of quantized weights from them.
import ModelGraph
import ReferenceEngine

/// Evaluates constant sub-graphs at compile time.
public struct FoldConstants: Pass {
    public static let name = "fold-constants"
    public static let summary = "evaluate constant sub-graphs (shape computations) at compile time"

    public init() {}

    static func keeps(_ op: Op) -> Bool {
        switch op {
        case .quant, .bipolarQuant, .trunc, .multiThreshold, .quantizeLinear, .dequantizeLinear: true
        default: false
        }
    }

    public func run(_ state: inout LoweringState) throws {
        var graph = state.graph
        var kept: [Node] = []
        for node in graph.nodes {
            if case .shape = node.op, let shape = state.shapes[node.inputs[0]], graph.initializers[node.inputs[0]] == nil {
                // The shape is static: only its value matters.
                let r = try FloatInterpreter.apply(node, [FloatTensor(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))], opset: graph.opsets[""] ?? 13)
                graph.initializers[node.outputs[0]] = r[0]
                continue
            }
            let constant = node.inputs.allSatisfy { $0.isEmpty || graph.initializers[$0] != nil }
            guard constant, !Self.keeps(node.op), !node.outputs.contains(where: { name in graph.outputs.contains { $0.name == name } }) else {
                kept.append(node)
                continue
            }
            let args = node.inputs.map { $0.isEmpty ? nil : graph.initializers[$0] }
            do {
                let results = try FloatInterpreter.apply(node, args, opset: graph.opsets[""] ?? 13)
                for (name, t) in zip(node.outputs, results) where !name.isEmpty { graph.initializers[name] = t }
            } catch let e as FloatInterpreterError {
                throw state.unsupported(e.node, e.reason)
            }
        }
        // Nodes whose outputs nothing reads any more go too (a Shape's Gather, say).
        var live = Set(graph.outputs.map(\.name))
        var alive: [Node] = []
        for node in kept.reversed() where node.outputs.contains(where: live.contains) {
            alive.append(node)
            live.formUnion(node.inputs)
        }
        graph.nodes = alive.reversed()
        let used = Set(graph.nodes.flatMap(\.inputs)).union(graph.outputs.map(\.name))
        graph.initializers = graph.initializers.filter { used.contains($0.key) }
        state.graph = graph
    }
}
