// Float32 interpreter of a ModelGraph at batch 1 and rank ≤ 2: the accuracy
// reference that quantized results are compared with, and the calibration source.
import Foundation
import ModelGraph

/// Why the float interpreter could not run a node.
public struct FloatInterpreterError: Error, CustomStringConvertible, Equatable {
    /// The node.
    public var node: String
    /// The reason.
    public var reason: String

    public var description: String { "node '\(node)': \(reason)" }
}

/// Runs graphs in float32, the way ONNX defines them.
public enum FloatInterpreter {
    /// Every value the graph defines (inputs, initializers, node outputs) for one input.
    public static func evaluate(_ graph: Graph, input: [Float]) throws -> [String: FloatTensor] {
        guard let info = graph.inputs.first else { throw FloatInterpreterError(node: "graph", reason: "no input") }
        var shape = info.shape.map { $0 ?? 1 }
        if shape.reduce(1, *) != input.count { shape = [1, input.count] }
        var env = graph.initializers
        env[info.name] = FloatTensor(shape: shape, data: input)
        for node in graph.nodes {
            let args = node.inputs.map { env[$0] }
            env[node.outputs[0]] = try apply(node, args)
        }
        return env
    }

    /// The graph's first output, flattened, for one input.
    public static func run(_ graph: Graph, input: [Float]) throws -> [Float] {
        let env = try evaluate(graph, input: input)
        return env[graph.outputs[0].name]!.data
    }

    static func matrix(_ t: FloatTensor, _ node: Node) throws -> (rows: Int, cols: Int) {
        switch t.shape.count {
        case 0: return (1, 1)
        case 1: return (1, t.shape[0])
        case 2: return (t.shape[0], t.shape[1])
        default: throw FloatInterpreterError(node: node.name, reason: "tensors of rank \(t.shape.count) are not supported")
        }
    }

    static func transpose(_ t: FloatTensor, rows: Int, cols: Int) -> FloatTensor {
        var out = [Float](repeating: 0, count: t.count)
        for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = t.data[r * cols + c] } }
        return FloatTensor(shape: [cols, rows], data: out)
    }

    static func product(_ a: FloatTensor, _ b: FloatTensor, _ node: Node, transA: Bool, transB: Bool, alpha: Float) throws -> FloatTensor {
        var (m, k) = try matrix(a, node)
        var (k2, n) = try matrix(b, node)
        let aa = transA ? transpose(a, rows: m, cols: k) : a
        if transA { swap(&m, &k) }
        let bb = transB ? transpose(b, rows: k2, cols: n) : b
        if transB { swap(&k2, &n) }
        guard k == k2 else { throw FloatInterpreterError(node: node.name, reason: "inner dimensions \(k) and \(k2) differ") }
        var out = [Float](repeating: 0, count: m * n)
        for r in 0..<m {
            for c in 0..<n {
                var s: Float = 0
                for i in 0..<k { s += aa.data[r * k + i] * bb.data[i * n + c] }
                out[r * n + c] = alpha * s
            }
        }
        return FloatTensor(shape: [m, n], data: out)
    }

    /// Numpy broadcasting of two rank ≤ 2 tensors.
    static func broadcast(_ a: FloatTensor, _ b: FloatTensor, _ node: Node, _ f: (Float, Float) -> Float) throws -> FloatTensor {
        let (ar, ac) = try matrix(a, node), (br, bc) = try matrix(b, node)
        guard ar == br || ar == 1 || br == 1, ac == bc || ac == 1 || bc == 1 else {
            throw FloatInterpreterError(node: node.name, reason: "shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let rows = max(ar, br), cols = max(ac, bc)
        var out = [Float](repeating: 0, count: rows * cols)
        for r in 0..<rows {
            for c in 0..<cols {
                out[r * cols + c] = f(a.data[(ar == 1 ? 0 : r) * ac + (ac == 1 ? 0 : c)], b.data[(br == 1 ? 0 : r) * bc + (bc == 1 ? 0 : c)])
            }
        }
        let shape = max(a.shape.count, b.shape.count) == 2 ? [rows, cols] : [cols]
        return FloatTensor(shape: shape, data: out)
    }

    static func apply(_ node: Node, _ args: [FloatTensor?]) throws -> FloatTensor {
        guard let x = args.first ?? nil else { throw FloatInterpreterError(node: node.name, reason: "missing input") }
        switch node.op {
        case let .gemm(alpha, beta, transA, transB):
            guard let b = args[1] else { throw FloatInterpreterError(node: node.name, reason: "missing B") }
            let y = try product(x, b, node, transA: transA, transB: transB, alpha: alpha)
            guard args.count > 2, let c = args[2] else { return y }
            return try broadcast(y, c, node) { $0 + beta * $1 }
        case .matMul:
            guard let b = args[1] else { throw FloatInterpreterError(node: node.name, reason: "missing B") }
            return try product(x, b, node, transA: false, transB: false, alpha: 1)
        case .add:
            guard let b = args[1] else { throw FloatInterpreterError(node: node.name, reason: "missing B") }
            return try broadcast(x, b, node, +)
        case .relu: return FloatTensor(shape: x.shape, data: x.data.map { max($0, 0) })
        case .sigmoid: return FloatTensor(shape: x.shape, data: x.data.map { 1 / (1 + exp(-$0)) })
        case .identity: return x
        case let .flatten(axis):
            let a = axis < 0 ? axis + x.shape.count : axis
            guard a >= 0, a <= x.shape.count else { throw FloatInterpreterError(node: node.name, reason: "axis \(axis) out of range") }
            return FloatTensor(shape: [x.shape[..<a].reduce(1, *), x.shape[a...].reduce(1, *)], data: x.data)
        case let .softmax(axis):
            guard axis == -1 || axis == x.shape.count - 1 else {
                throw FloatInterpreterError(node: node.name, reason: "Softmax over axis \(axis) is not supported, only the last axis")
            }
            let cols = x.shape.last ?? 1
            var out = x.data
            for r in stride(from: 0, to: x.count, by: cols) {
                let m = x.data[r..<r + cols].max() ?? 0
                var s: Float = 0
                for c in 0..<cols { out[r + c] = exp(x.data[r + c] - m); s += out[r + c] }
                for c in 0..<cols { out[r + c] /= s }
            }
            return FloatTensor(shape: x.shape, data: out)
        }
    }
}
