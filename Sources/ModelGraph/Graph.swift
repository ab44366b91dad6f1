// The value-type graph IR of an imported model: float tensors, ops, and the
// order they run in. Importers build it; Lowering and the float interpreter read it.

/// A dense float tensor in row-major order.
public struct FloatTensor: Equatable, Sendable {
    /// Dimensions, outermost first. A scalar has no dimensions.
    public var shape: [Int]
    /// Elements in row-major order; `data.count == shape.product`.
    public var data: [Float]

    /// Creates a tensor; the element count must match the shape.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor shape \(shape) does not hold \(data.count) elements")
        self.shape = shape
        self.data = data
    }

    /// Number of elements.
    public var count: Int { data.count }
}

/// An operation of the model graph, with its attributes already typed.
public enum Op: Equatable, Sendable {
    /// `Y = alpha · op(A) · op(B) + beta · C` (ONNX Gemm).
    case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool)
    /// Matrix product of two 2-D tensors (ONNX MatMul).
    case matMul
    /// Elementwise sum with numpy broadcasting (ONNX Add).
    case add
    /// `max(x, 0)`.
    case relu
    /// `1 / (1 + e^-x)`.
    case sigmoid
    /// Passes its input through.
    case identity
    /// Reshapes to 2-D, keeping dimensions before `axis` as rows.
    case flatten(axis: Int)
    /// Normalised exponential along `axis`.
    case softmax(axis: Int)

    /// The ONNX name of the op, for messages.
    public var onnxName: String {
        switch self {
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .add: "Add"
        case .relu: "Relu"
        case .sigmoid: "Sigmoid"
        case .identity: "Identity"
        case .flatten: "Flatten"
        case .softmax: "Softmax"
        }
    }
}

/// One operation applied to named values.
public struct Node: Equatable, Sendable {
    /// The node's name; importers invent `OpType_index` when the file has none.
    public var name: String
    /// What the node computes.
    public var op: Op
    /// Names of the values it reads, in the op's argument order.
    public var inputs: [String]
    /// Names of the values it defines.
    public var outputs: [String]

    /// Creates a node.
    public init(name: String, op: Op, inputs: [String], outputs: [String]) {
        self.name = name
        self.op = op
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A graph input or output with its (possibly symbolic) shape.
public struct ValueInfo: Equatable, Sendable {
    /// Value name.
    public var name: String
    /// Dimensions; `nil` where the model leaves one symbolic (a batch size, say).
    public var shape: [Int?]

    /// Creates a value description.
    public init(name: String, shape: [Int?]) {
        self.name = name
        self.shape = shape
    }
}

/// A model: inputs, outputs, constant tensors and nodes in execution order.
public struct Graph: Equatable, Sendable {
    /// Graph name from the model file.
    public var name: String
    /// Runtime inputs (initializers are not listed here).
    public var inputs: [ValueInfo]
    /// Values the model returns.
    public var outputs: [ValueInfo]
    /// Nodes in an order where every input is defined before it is used.
    public var nodes: [Node]
    /// Constant tensors by value name.
    public var initializers: [String: FloatTensor]

    /// Creates a graph.
    public init(name: String, inputs: [ValueInfo], outputs: [ValueInfo], nodes: [Node], initializers: [String: FloatTensor]) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        self.initializers = initializers
    }

    /// The node that defines `value`, if any.
    public func producer(of value: String) -> Node? {
        nodes.first { $0.outputs.contains(value) }
    }

    /// The nodes that read `value`.
    public func consumers(of value: String) -> [Node] {
        nodes.filter { $0.inputs.contains(value) }
    }
}
