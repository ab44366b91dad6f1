// Accumulates the values and nodes of a HardwareIR program while a lowering pass
// walks the model graph, and evaluates the partial program on calibration vectors
// when a LUT-linear layer needs the integer activations that reach it.
import HardwareIR
import ReferenceEngine

struct ProgramBuilder {
    /// Program values by name.
    var values: [String: TensorType] = [:]
    /// Nodes in order.
    var nodes: [KernelNode] = []
    /// The model value each program value stands for.
    var sourceValues: [String: String] = [:]
    /// Program values streamed in another order than their model value (channels-last maps).
    var layouts: [String: StreamLayout] = [:]
    /// Next index per name prefix.
    private var counters: [String: Int] = [:]
    /// The input value.
    let input = "in"

    /// `fc0`, `fc1`, … for `prefix: "fc"`.
    mutating func fresh(_ prefix: String) -> String {
        let i = counters[prefix, default: 0]
        counters[prefix] = i + 1
        return "\(prefix)\(i)"
    }

    /// Declares the program input.
    mutating func setInput(_ type: TensorType, model: String) {
        values[input] = type
        sourceValues[input] = model
    }

    /// Adds a node named `name` writing a value of the same name, and returns that name.
    @discardableResult
    mutating func add(_ name: String, sourceNodes: [String], kernel: any KernelDefinition, inputs: [String], model: String?,
                      layout: StreamLayout? = nil) -> String {
        values[name] = kernel.outputType
        nodes.append(KernelNode(name: name, sourceNodes: sourceNodes, kernel: kernel, inputs: inputs, output: name))
        if let model { sourceValues[name] = model }
        if let layout { layouts[name] = layout }
        return name
    }

    /// The finished program with output `output`.
    func program(name: String, sourceFile: String, output: String, meaning: OutputMeaning, calibration: String,
                 inputQuantizer: InputQuantizer?) -> Program {
        // Values nothing reads (a branch the output does not need) are pruned with their nodes.
        var live: Set<String> = [output]
        var kept: [KernelNode] = []
        for node in nodes.reversed() where live.contains(node.output) {
            kept.append(node)
            live.formUnion(node.inputs)
        }
        kept.reverse()
        var p = Program(name: name, sourceFile: sourceFile, values: values.filter { live.contains($0.key) }, nodes: kept,
                        input: input, output: output, outputMeaning: meaning, calibration: calibration)
        p.inputQuantizer = inputQuantizer
        p.sourceValues = sourceValues.filter { live.contains($0.key) }
        p.layouts = layouts.filter { live.contains($0.key) }
        return p
    }

    /// Integers of `value` for each of `inputs` (program input vectors), running the nodes built so far.
    func evaluate(_ value: String, on inputs: [[Int]]) throws -> [[Int]] {
        try inputs.map { x in
            var env = [input: x]
            for node in nodes {
                if env[value] != nil { break }
                env[node.output] = try IntegerEngine.run(node, node.inputs.map { env[$0]! })
            }
            return env[value]!
        }
    }
}
