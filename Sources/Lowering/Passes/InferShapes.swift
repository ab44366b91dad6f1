// infer-shapes: the static shape of every value at batch 1, from one run of the
// float interpreter on a zero input (which also reports any op it cannot execute).
import ModelGraph
import ReferenceEngine

/// Fills `state.shapes`.
public struct InferShapes: Pass {
    public static let name = "infer-shapes"
    public static let summary = "static shape of every value at batch 1"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        let graph = state.graph
        guard graph.outputs.count == 1 else {
            throw state.unsupported("graph", "expected one graph output, found \(graph.outputs.count)")
        }
        let input = graph.inputs[0]
        let dims = input.shape.enumerated().map { i, d in d ?? 1 }
        if input.shape.enumerated().contains(where: { $0.offset > 0 && $0.element == nil }) {
            throw state.unsupported("input '\(input.name)'", "has a symbolic dimension \(input.shape) beyond the batch dimension; LUTForge compiles fixed shapes")
        }
        let count = dims.reduce(1, *)
        guard count > 0 else { throw state.unsupported("input '\(input.name)'", "has no elements (shape \(input.shape))") }
        let env: [String: FloatTensor]
        do { env = try FloatInterpreter.evaluate(graph, input: [Float](repeating: 0, count: count)) } catch let e as FloatInterpreterError {
            throw state.unsupported(e.node, e.reason)
        }
        state.shapes = env.mapValues(\.shape)
    }
}
