// The lowered program: a dataflow graph of kernels over typed streams. Emitters,
// the reference engine and the estimator read only this.

/// One kernel instance of the graph.
public struct KernelNode: Codable, Hashable, Sendable {
    /// Identifier used for generated names (`fc0`, `add1`, …).
    public var name: String
    /// The model nodes it implements, for messages and reports.
    public var sourceNodes: [String]
    /// The kernel.
    public var kernel: AnyKernel
    /// Values read, in port order.
    public var inputs: [String]
    /// The value written.
    public var output: String

    /// Creates a node.
    public init(name: String, sourceNodes: [String], kernel: any KernelDefinition, inputs: [String], output: String) {
        self.name = name
        self.sourceNodes = sourceNodes
        self.kernel = AnyKernel(kernel)
        self.inputs = inputs
        self.output = output
    }

    /// The kernel's registry key.
    public var kind: String { kernel.kind }
    /// The kernel's schedule.
    public var schedule: KernelSchedule { kernel.base.schedule }
    /// The kernel's memories.
    public var memories: [MemoryImage] { kernel.base.memories }
    /// The kernel as a concrete kind, if it is one.
    public func kernel<K: KernelDefinition>(as _: K.Type) -> K? { kernel.base as? K }
}

/// What the program's output integers mean.
public enum OutputMeaning: Codable, Hashable, Sendable {
    /// Logits whose argmax equals the argmax of the model's final Softmax (named).
    case logits(softmaxNode: String)
    /// Quantized values of the model output (see the output value's quantization).
    case values
    /// The index of the largest value (TopK k = 1, ArgMax), named.
    case classIndex(node: String)
}

/// The device and clock a design is compiled for (the vendor project and the reports use them).
public struct Target: Codable, Hashable, Sendable {
    /// Device database id (`arty-a7-35t`).
    public var device: String
    /// Vendor part (`xc7a35ticsg324-1L`) or nextpnr device and package (`up5k sg48`).
    public var part: String
    /// `AMD` or `Lattice`.
    public var vendor: String
    /// Clock, MHz.
    public var clockMHz: Double

    /// Creates a target.
    public init(device: String, part: String, vendor: String, clockMHz: Double) {
        self.device = device
        self.part = part
        self.vendor = vendor
        self.clockMHz = clockMHz
    }
}

/// A malformed program: a bug in a pass or a hand-built IR, never a user error.
public struct ProgramError: Error, CustomStringConvertible, Equatable {
    /// The node or value at fault.
    public var at: String
    /// Why.
    public var reason: String

    /// Creates an error.
    public init(at: String, reason: String) {
        self.at = at
        self.reason = reason
    }

    public var description: String { "HardwareIR: \(at): \(reason)" }
}

/// A whole lowered model: kernels over named, typed streams between one input and one output.
public struct Program: Codable, Hashable, Sendable {
    /// Model name.
    public var name: String
    /// File name (without directories) of the model it came from.
    public var sourceFile: String
    /// Every value's type, by name.
    public var values: [String: TensorType]
    /// Kernels in an order where every input is defined before it is read.
    public var nodes: [KernelNode]
    /// The streamed input value.
    public var input: String
    /// The streamed output value.
    public var output: String
    /// How to read the output.
    public var outputMeaning: OutputMeaning
    /// How the activation ranges were obtained, for the record.
    public var calibration: String
    /// Device and clock, once the driver has chosen them.
    public var target: Target?
    /// How the host quantizes float inputs (nil: the input is integer, pass it as it is).
    public var inputQuantizer: InputQuantizer?
    /// The model value each program value stands for (for the fidelity report), by program value.
    public var sourceValues: [String: String] = [:]
    /// Program values whose stream orders the elements of their model value differently from the
    /// model (feature maps, streamed channels-last); the host rearranges the input and output by
    /// `layouts[input]` and `layouts[output]`.
    public var layouts: [String: StreamLayout] = [:]

    /// Creates a program.
    public init(name: String, sourceFile: String, values: [String: TensorType], nodes: [KernelNode], input: String, output: String,
                outputMeaning: OutputMeaning, calibration: String) {
        self.name = name
        self.sourceFile = sourceFile
        self.values = values
        self.nodes = nodes
        self.input = input
        self.output = output
        self.outputMeaning = outputMeaning
        self.calibration = calibration
    }

    /// A chain: `input` of `inputType` through `kernels` in order (values `x0`, `x1`, …).
    public init(name: String, sourceFile: String, inputType: TensorType, chain kernels: [(name: String, sourceNodes: [String], kernel: any KernelDefinition)],
                outputMeaning: OutputMeaning, calibration: String) {
        var values = ["x0": inputType]
        var nodes: [KernelNode] = []
        for (i, k) in kernels.enumerated() {
            values["x\(i + 1)"] = k.kernel.outputType
            nodes.append(KernelNode(name: k.name, sourceNodes: k.sourceNodes, kernel: k.kernel, inputs: ["x\(i)"], output: "x\(i + 1)"))
        }
        self.init(name: name, sourceFile: sourceFile, values: values, nodes: nodes, input: "x0", output: "x\(kernels.count)",
                  outputMeaning: outputMeaning, calibration: calibration)
    }

    /// Type of the streamed input.
    public var inputType: TensorType { values[input]! }
    /// Type of the streamed output.
    public var outputType: TensorType { values[output]! }
    /// Elements per input vector.
    public var inputCount: Int { inputType.count }
    /// Elements per output vector.
    public var outputCount: Int { outputType.count }
    /// Integer type of an input element as the hardware carries it.
    public var inputStorage: IntType { inputType.storage }
    /// Integer type of an output element.
    public var outputStorage: IntType { outputType.storage }
    /// Width of the top's output beat counter, which drives `out_last`.
    public var outputIndexBits: Int { Arith.indexBits(outputCount) }

    /// The node named `name`.
    public func node(named name: String) -> KernelNode? { nodes.first { $0.name == name } }
    /// The node that writes `value` (nil for the graph input).
    public func producer(of value: String) -> KernelNode? { nodes.first { $0.output == value } }
    /// `(node index, port)` of every reader of `value`.
    public func consumers(of value: String) -> [(node: Int, port: Int)] {
        nodes.enumerated().flatMap { i, n in n.inputs.enumerated().filter { $0.element == value }.map { (i, $0.offset) } }
    }

    /// Checks that the graph is well formed: every value defined once and before it is read,
    /// every port's type equal to its value's type, no cycle, nothing dangling, and every
    /// kernel consistent in itself. Tests run it after every pass.
    public func verify() throws {
        guard values[input] != nil else { throw ProgramError(at: "input '\(input)'", reason: "has no type") }
        var defined: Set<String> = [input]
        var names: Set<String> = []
        for node in nodes {
            let at = "node '\(node.name)'"
            guard names.insert(node.name).inserted else { throw ProgramError(at: at, reason: "name used twice") }
            let k = node.kernel.base
            guard node.inputs.count == k.inputTypes.count else {
                throw ProgramError(at: at, reason: "\(node.kind) has \(k.inputTypes.count) input port(s), the node connects \(node.inputs.count)")
            }
            for (port, value) in node.inputs.enumerated() {
                guard let t = values[value] else { throw ProgramError(at: at, reason: "input '\(value)' has no type") }
                guard defined.contains(value) else {
                    throw ProgramError(at: at, reason: "input '\(value)' is not defined before it is read (a cycle, or nodes out of order)")
                }
                guard t == k.inputTypes[port] else {
                    throw ProgramError(at: at, reason: "port \(port) expects \(k.inputTypes[port]), value '\(value)' is \(t)")
                }
            }
            guard let out = values[node.output] else { throw ProgramError(at: at, reason: "output '\(node.output)' has no type") }
            guard out == k.outputType else { throw ProgramError(at: at, reason: "output '\(node.output)' is \(out), the kernel writes \(k.outputType)") }
            guard defined.insert(node.output).inserted else { throw ProgramError(at: at, reason: "value '\(node.output)' is defined twice") }
            let s = k.schedule
            if s.fifoDepth == nil {
                guard s.totalInputBeats == k.inputTypes.map(\.beats), s.totalOutputBeats == k.outputType.beats else {
                    throw ProgramError(at: at, reason: "schedule beats \(s.totalInputBeats) -> \(s.totalOutputBeats) do not match the port types")
                }
            }
            try k.check(node: node.name)
        }
        guard defined.contains(output) else { throw ProgramError(at: "output '\(output)'", reason: "is not written by any node") }
        guard !nodes.isEmpty else { throw ProgramError(at: "program", reason: "has no kernel") }
        for value in defined where value != output && consumers(of: value).isEmpty {
            throw ProgramError(at: "value '\(value)'", reason: "is written but never read")
        }
        for value in values.keys where !defined.contains(value) {
            throw ProgramError(at: "value '\(value)'", reason: "has a type but is never written")
        }
    }
}
