// extract-linear-chain: walks the graph from its input and recovers a chain of
// fully connected layers (Gemm, or MatMul + Add), their activations and a final Softmax.
import ModelGraph

/// Recovers `act(W·x + b)` layers from Gemm / MatMul+Add / Relu / Sigmoid / Flatten / Identity / Softmax.
public struct ExtractLinearChain: Pass {
    public static let name = "extract-linear-chain"
    public static let summary = "recover fully connected layers and activations from the graph"

    public init() {}

    public func run(_ state: inout LoweringState) throws {
        let graph = state.graph
        let file = state.file
        func fail(_ node: Node, _ reason: String) -> LoweringError {
            .unsupported(file: file, node: node.name, reason: reason)
        }
        func constant(_ node: Node, _ index: Int) throws -> FloatTensor {
            guard index < node.inputs.count, let t = graph.initializers[node.inputs[index]] else {
                throw fail(node, "input \(index) must be a constant initializer (LUTForge compiles fixed weights)")
            }
            return t
        }
        guard graph.outputs.count == 1 else {
            throw LoweringError.unsupported(file: file, node: "graph", reason: "expected one graph output, found \(graph.outputs.count)")
        }
        var current = graph.inputs[0].name
        let inputShape = graph.inputs[0].shape
        let featureDims = inputShape.count == 1 ? inputShape : Array(inputShape.dropFirst())
        var width: Int? = featureDims.contains(nil) ? nil : featureDims.reduce(1) { $0 * $1! }
        var layers: [LinearLayer] = []
        var softmax: String?
        let output = graph.outputs[0].name

        while current != output {
            let users = graph.consumers(of: current)
            guard users.count == 1, let node = users.first else {
                let at = graph.producer(of: current)?.name ?? "input '\(current)'"
                throw LoweringError.unsupported(file: file, node: at, reason: users.isEmpty
                    ? "its output '\(current)' reaches no node and is not the graph output"
                    : "its output '\(current)' feeds \(users.count) nodes; only chains of layers are supported")
            }
            guard node.inputs.first == current || node.op == .add else {
                throw fail(node, "the activation must be the first input")
            }
            if softmax != nil { throw fail(node, "only a final Softmax is supported; this node follows it") }
            let next = node.outputs[0]
            switch node.op {
            case .identity, .flatten:
                // Batch-1 vectors are unchanged by these; follow the value through.
                if var last = layers.last, last.outputValue == current {
                    if last.preActivationValue == current { last.preActivationValue = next }
                    last.outputValue = next
                    layers[layers.count - 1] = last
                }
            case let .gemm(alpha, beta, transA, transB):
                if transA { throw fail(node, "Gemm with transA=1 on the activation is not supported") }
                let b = try constant(node, 1)
                guard b.shape.count == 2 else { throw fail(node, "B must be 2-D, got shape \(b.shape)") }
                var rows = rowsOf(b, transposed: !transB)
                if alpha != 1 { rows = rows.map { $0.map { $0 * alpha } } }
                var bias = [Float](repeating: 0, count: rows.count)
                if node.inputs.count > 2, !node.inputs[2].isEmpty {
                    let c = try constant(node, 2)
                    bias = try broadcastBias(c, count: rows.count, node: node, fail: fail).map { $0 * beta }
                }
                layers.append(try makeLayer(node, rows, bias, width, layers.count, fail))
                width = rows.count
            case .matMul:
                let b = try constant(node, 1)
                guard b.shape.count == 2 else { throw fail(node, "the weight must be 2-D, got shape \(b.shape)") }
                layers.append(try makeLayer(node, rowsOf(b, transposed: true), [Float](repeating: 0, count: b.shape[1]), width, layers.count, fail))
                width = b.shape[1]
            case .add:
                guard var last = layers.last, last.outputValue == current, last.activation == .none,
                      last.preActivationValue == current else {
                    throw fail(node, "Add is supported only as the bias of the MatMul or Gemm before it")
                }
                let other = node.inputs[0] == current ? 1 : 0
                guard let c = graph.initializers[node.inputs[other]] else { throw fail(node, "the bias must be a constant initializer") }
                let extra = try broadcastBias(c, count: last.outputCount, node: node, fail: fail)
                last.bias = zip(last.bias, extra).map(+)
                last.nodes.append(node.name)
                last.preActivationValue = next
                last.outputValue = next
                layers[layers.count - 1] = last
            case .relu, .sigmoid:
                guard var last = layers.last, last.outputValue == current, last.activation == .none else {
                    throw fail(node, "\(node.op.onnxName) must follow a Gemm, MatMul or bias Add")
                }
                last.activation = node.op == .relu ? .relu : .sigmoid
                last.nodes.append(node.name)
                last.outputValue = next
                layers[layers.count - 1] = last
            case let .softmax(axis):
                guard axis == -1 || axis == 1 else { throw fail(node, "Softmax must be over the feature axis (axis 1 or -1), got \(axis)") }
                guard let last = layers.last, last.activation == .none, next == output else {
                    throw fail(node, "Softmax is supported only as the last node, directly after a linear layer")
                }
                softmax = node.name
            }
            current = next
        }
        guard !layers.isEmpty else {
            throw LoweringError.unsupported(file: file, node: "graph", reason: "the model has no Gemm or MatMul layer to compile")
        }
        state.layers = layers
        state.finalSoftmax = softmax
        if let softmax {
            state.notes.append("final Softmax '\(softmax)' lowered to argmax-preserving logits on hardware; apply softmax on the host if probabilities are needed")
        }
    }

    /// Rows `[outputs][inputs]` of a weight matrix stored as `[outputs, inputs]` (or transposed).
    func rowsOf(_ t: FloatTensor, transposed: Bool) -> [[Float]] {
        let r = t.shape[0], c = t.shape[1]
        if !transposed { return (0..<r).map { Array(t.data[$0 * c..<($0 + 1) * c]) } }
        return (0..<c).map { col in (0..<r).map { t.data[$0 * c + col] } }
    }

    func broadcastBias(_ c: FloatTensor, count: Int, node: Node, fail: (Node, String) -> LoweringError) throws -> [Float] {
        if c.count == count, c.shape.filter({ $0 != 1 }).count <= 1 { return c.data }
        if c.count == 1 { return [Float](repeating: c.data[0], count: count) }
        throw fail(node, "bias of shape \(c.shape) does not broadcast to \(count) outputs")
    }

    func makeLayer(_ node: Node, _ rows: [[Float]], _ bias: [Float], _ width: Int?, _ index: Int,
                   _ fail: (Node, String) -> LoweringError) throws -> LinearLayer {
        guard let inputs = rows.first?.count, inputs > 0, !rows.isEmpty else { throw fail(node, "empty weight matrix") }
        if let width, width != inputs {
            throw fail(node, "weight expects \(inputs) inputs but receives \(width)")
        }
        return LinearLayer(name: "fc\(index)", nodes: [node.name], weight: rows, bias: bias, activation: .none,
                           preActivationValue: node.outputs[0], outputValue: node.outputs[0])
    }
}
