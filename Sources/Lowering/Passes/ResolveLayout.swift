// resolve-layout: Reshape, Flatten, Squeeze, Unsqueeze, Identity and Transpose of
// streamed values compute nothing in hardware. Each becomes a layout fact: the value
// it reads, the logical shape, and (after a Transpose) which stream element each
// logical element is. Consumers of the facts permute their weights instead.
import ModelGraph
import ReferenceEngine

/// Fills `state.layout`.
public struct ResolveLayout: Pass {
    public static let name = "resolve-layout"
    public static let summary = "turn reshapes and transposes of streamed values into layout facts"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        for node in state.graph.nodes {
            let layoutOp: Bool
            switch node.op {
            case .identity, .reshape, .flatten, .squeeze, .unsqueeze, .transpose: layoutOp = true
            default: layoutOp = false
            }
            guard layoutOp, state.graph.initializers[node.inputs[0]] == nil, let shape = state.shapes[node.outputs[0]] else { continue }
            var fact = state.resolve(node.inputs[0])
            if case let .transpose(perm) = node.op {
                let inShape = state.shapes[node.inputs[0]] ?? fact.shape
                let p = perm ?? Array((0..<inShape.count).reversed())
                // Logical element j of the output is logical element iota[j] of the input.
                let iota = FloatTensor(shape: inShape, ints: Array(0..<inShape.reduce(1, *)), dtype: .int64)
                let moved = FloatInterpreter.transpose(iota, perm: p).ints!
                let base = fact.order ?? Array(0..<moved.count)
                let order = moved.map { base[$0] }
                fact.order = order == Array(0..<order.count) ? nil : order
            }
            fact.shape = shape
            state.layout[node.outputs[0]] = fact
        }
    }
}
