// Structural checks every importer's output must pass before lowering.

/// Why a graph is malformed; every message names the node at fault.
public enum GraphError: Error, CustomStringConvertible, Equatable {
    /// A node reads a value that nothing defines before it (this also catches cycles).
    case undefinedValue(node: String, value: String)
    /// Two nodes, or a node and an initializer, define the same value.
    case redefinedValue(node: String, value: String)
    /// A graph output is never defined.
    case missingOutput(value: String)
    /// The graph has no runtime input, or more than one.
    case inputCount(Int)
    /// A node has the wrong number of inputs or outputs for its op.
    case arity(node: String, op: String, expected: String)

    public var description: String {
        switch self {
        case let .undefinedValue(node, value):
            "node '\(node)': input '\(value)' is not defined before it is used (missing initializer, or a cycle)"
        case let .redefinedValue(node, value):
            "node '\(node)': value '\(value)' is defined twice"
        case let .missingOutput(value):
            "graph output '\(value)' is not produced by any node"
        case let .inputCount(n):
            "graph: expected exactly one runtime input, found \(n)"
        case let .arity(node, op, expected):
            "node '\(node)' (\(op)): expected \(expected)"
        }
    }
}

extension Graph {
    /// Checks definitions precede uses, nothing is defined twice, outputs exist and arities match.
    public func verify() throws {
        guard inputs.count == 1 else { throw GraphError.inputCount(inputs.count) }
        var defined = Set(initializers.keys)
        for input in inputs { defined.insert(input.name) }
        for node in nodes {
            let (ins, outs) = node.op.arity
            if !ins.contains(node.inputs.count) || !outs.contains(node.outputs.count) {
                func range(_ r: ClosedRange<Int>) -> String {
                    r.lowerBound == r.upperBound ? "\(r.lowerBound)" : r.upperBound == Int.max ? "at least \(r.lowerBound)" : "\(r.lowerBound) to \(r.upperBound)"
                }
                throw GraphError.arity(node: node.name, op: node.op.onnxName,
                                       expected: "\(range(ins)) inputs and \(range(outs)) output(s), got \(node.inputs.count) and \(node.outputs.count)")
            }
            for value in node.inputs where !value.isEmpty && !defined.contains(value) {
                throw GraphError.undefinedValue(node: node.name, value: value)
            }
            for value in node.outputs where !value.isEmpty {
                if defined.contains(value) { throw GraphError.redefinedValue(node: node.name, value: value) }
                defined.insert(value)
            }
        }
        for output in outputs where !defined.contains(output.name) {
            throw GraphError.missingOutput(value: output.name)
        }
    }
}
