// A short human-readable listing of a graph, for `--dump` and test failures.

extension Graph {
    /// One line per input, initializer (shape only), node and output, in a stable order.
    public func dump() -> String {
        var lines = ["graph \(name)"]
        for input in inputs {
            lines.append("  input \(input.name) [\(input.shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))]")
        }
        for key in initializers.keys.sorted() {
            lines.append("  const \(key) \(initializers[key]!.shape)")
        }
        for node in nodes {
            lines.append("  \(node.outputs.joined(separator: ", ")) = \(node.op.onnxName)(\(node.inputs.joined(separator: ", "))) // \(node.name)")
        }
        for output in outputs { lines.append("  output \(output.name)") }
        return lines.joined(separator: "\n") + "\n"
    }
}
