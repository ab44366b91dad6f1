// The value-type graph IR of an imported model: tensors, ops with typed
// attributes, quantization annotations, and the order nodes run in. Importers
// build it; the graph passes of Lowering rewrite it; the float interpreter runs it.

/// Element type of a tensor.
public enum DType: String, Sendable, Equatable, CaseIterable {
    case float32, float64, float16, bfloat16, int8, uint8, int16, uint16, int32, uint32, int64, uint64, bool

    /// Whether the elements are integers (bool included).
    public var isInteger: Bool { ![.float32, .float64, .float16, .bfloat16].contains(self) }

    /// Smallest and largest value of an integer type.
    public var integerRange: ClosedRange<Int>? {
        switch self {
        case .int8: -128...127
        case .uint8: 0...255
        case .int16: -32768...32767
        case .uint16: 0...65535
        case .int32: Int(Int32.min)...Int(Int32.max)
        case .uint32: 0...Int(UInt32.max)
        case .int64, .uint64: Int.min...Int.max
        case .bool: 0...1
        default: nil
        }
    }
}

/// A dense tensor in row-major order. Float data is held as float32 (what ONNX models
/// compute in); integer data is also held exactly in `ints`.
public struct FloatTensor: Equatable, Sendable {
    /// Dimensions, outermost first. A scalar has no dimensions.
    public var shape: [Int]
    /// Elements as float32, in row-major order; `data.count == shape.product`.
    public var data: [Float]
    /// Element type in the model file.
    public var dtype: DType
    /// The exact integers of an integer tensor.
    public var ints: [Int]?

    /// A float32 tensor; the element count must match the shape.
    public init(shape: [Int], data: [Float]) {
        precondition(shape.reduce(1, *) == data.count, "tensor shape \(shape) does not hold \(data.count) elements")
        self.shape = shape
        self.data = data
        dtype = .float32
        ints = nil
    }

    /// An integer tensor.
    public init(shape: [Int], ints: [Int], dtype: DType = .int64) {
        precondition(shape.reduce(1, *) == ints.count, "tensor shape \(shape) does not hold \(ints.count) elements")
        precondition(dtype.isInteger)
        self.shape = shape
        self.data = ints.map { Float($0) }
        self.dtype = dtype
        self.ints = ints
    }

    /// A float scalar.
    public static func scalar(_ v: Float) -> FloatTensor { FloatTensor(shape: [], data: [v]) }

    /// Number of elements.
    public var count: Int { data.count }
    /// Rank.
    public var rank: Int { shape.count }

    /// The elements as exact integers when they all are integers (integer dtypes, or floats holding integers).
    public var integerValues: [Int]? {
        if let ints { return ints }
        guard data.allSatisfy({ $0.rounded() == $0 && abs($0) < 1e15 }) else { return nil }
        return data.map { Int($0) }
    }
}

/// Attributes of a convolution (Conv, ConvInteger, QLinearConv).
public struct ConvAttributes: Equatable, Sendable {
    public var kernelShape: [Int]?
    public var strides: [Int]?
    public var pads: [Int]?
    public var dilations: [Int]?
    public var group: Int
    public var autoPad: String

    public init(kernelShape: [Int]?, strides: [Int]?, pads: [Int]?, dilations: [Int]?, group: Int, autoPad: String) {
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.group = group
        self.autoPad = autoPad
    }
}

/// Attributes of MaxPool and AveragePool.
public struct PoolAttributes: Equatable, Sendable {
    public var kernelShape: [Int]
    public var strides: [Int]?
    public var pads: [Int]?
    public var dilations: [Int]?
    public var autoPad: String
    public var ceilMode: Bool

    public init(kernelShape: [Int], strides: [Int]?, pads: [Int]?, dilations: [Int]?, autoPad: String, ceilMode: Bool) {
        self.kernelShape = kernelShape
        self.strides = strides
        self.pads = pads
        self.dilations = dilations
        self.autoPad = autoPad
        self.ceilMode = ceilMode
    }
}

/// The geometry of a window op (Conv, MaxPool, AveragePool) over the spatial dimensions of an
/// `[N, C, spatial…]` input, as ONNX defines it: explicit or automatic pads, strides, dilations.
public struct WindowGeometry: Equatable, Sendable {
    /// Spatial input size, outermost first.
    public var input: [Int]
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// Padding before and after each spatial dimension.
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    /// Spatial output size.
    public var output: [Int]

    /// Resolves ONNX's attributes for `input`; nil with a reason when they are inconsistent.
    public static func resolve(input: [Int], kernel: [Int], strides: [Int]?, pads: [Int]?, dilations: [Int]?, autoPad: String,
                               ceilMode: Bool = false) -> Result<WindowGeometry, WindowGeometryError> {
        let n = input.count
        guard kernel.count == n, kernel.allSatisfy({ $0 >= 1 }) else { return .failure(.init("kernel_shape \(kernel) does not match \(n) spatial dimensions")) }
        let st = strides ?? [Int](repeating: 1, count: n), dl = dilations ?? [Int](repeating: 1, count: n)
        guard st.count == n, dl.count == n, st.allSatisfy({ $0 >= 1 }), dl.allSatisfy({ $0 >= 1 }) else {
            return .failure(.init("strides \(st) or dilations \(dl) do not fit \(n) spatial dimensions"))
        }
        var begin = [Int](repeating: 0, count: n), end = begin, out = begin
        for d in 0..<n {
            let span = (kernel[d] - 1) * dl[d] + 1
            switch autoPad {
            case "NOTSET":
                if let p = pads {
                    guard p.count == 2 * n, p.allSatisfy({ $0 >= 0 }) else { return .failure(.init("pads \(p) do not fit \(n) spatial dimensions")) }
                    begin[d] = p[d]
                    end[d] = p[n + d]
                }
                let room = input[d] + begin[d] + end[d] - span
                guard room >= 0 else { return .failure(.init("the window (\(span)) is larger than the padded input (\(input[d] + begin[d] + end[d]))")) }
                out[d] = (ceilMode ? (room + st[d] - 1) / st[d] : room / st[d]) + 1
                // ONNX drops a ceil-mode window that would start in the end padding.
                if ceilMode && (out[d] - 1) * st[d] >= input[d] + begin[d] { out[d] -= 1 }
            case "VALID":
                guard input[d] >= span else { return .failure(.init("the window (\(span)) is larger than the input (\(input[d]))")) }
                out[d] = (input[d] - span) / st[d] + 1
            case "SAME_UPPER", "SAME_LOWER":
                out[d] = (input[d] + st[d] - 1) / st[d]
                let total = max((out[d] - 1) * st[d] + span - input[d], 0)
                begin[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                end[d] = total - begin[d]
            default:
                return .failure(.init("auto_pad '\(autoPad)' is not supported"))
            }
        }
        return .success(WindowGeometry(input: input, kernel: kernel, strides: st, dilations: dl, padsBegin: begin, padsEnd: end, output: out))
    }

    /// Window elements: the product of the kernel sizes.
    public var windowSize: Int { kernel.reduce(1, *) }
    /// Whether any window reaches into the padding.
    public var padded: Bool { padsBegin.contains { $0 > 0 } || padsEnd.contains { $0 > 0 } }
}

/// Why a window geometry is not valid.
public struct WindowGeometryError: Error, Equatable, Sendable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// How a quantizer rounds (QONNX `rounding_mode`).
public enum RoundingMode: String, Equatable, Sendable, CaseIterable {
    /// Half to even (`ROUND`, `HALF_EVEN`): numpy's `round`.
    case halfEven = "ROUND"
    case ceil = "CEIL"
    case floor = "FLOOR"
    /// Away from zero.
    case up = "UP"
    /// Towards zero.
    case down = "DOWN"
    /// Half away from zero.
    case halfUp = "HALF_UP"
    /// Half towards zero.
    case halfDown = "HALF_DOWN"

    /// Parses QONNX's names (case-insensitive; `HALF_EVEN` is `ROUND`).
    public init?(qonnx name: String) {
        let n = name.uppercased()
        if n == "HALF_EVEN" { self = .halfEven; return }
        self.init(rawValue: n)
    }

    /// Rounds `x` as numpy does for this mode (float32 in, float32 out).
    @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .halfEven: x.rounded(.toNearestOrEven)
        case .ceil: x.rounded(.up)
        case .floor: x.rounded(.down)
        case .up: x.rounded(.awayFromZero)
        case .down: x.rounded(.towardZero)
        case .halfUp: x.sign == .minus ? -((-x) + 0.5).rounded(.down) : (x + 0.5).rounded(.down)
        case .halfDown: x.sign == .minus ? -((-x) - 0.5).rounded(.up) : (x - 0.5).rounded(.up)
        }
    }
}

/// An operation of the model graph, with its attributes already typed.
public enum Op: Equatable, Sendable {
    /// `Y = alpha · op(A) · op(B) + beta · C` (ONNX Gemm).
    case gemm(alpha: Float, beta: Float, transA: Bool, transB: Bool)
    /// Matrix product with numpy broadcasting of batch dimensions (ONNX MatMul).
    case matMul
    /// Elementwise arithmetic with numpy broadcasting.
    case add, sub, mul, div
    /// `max(x, 0)`.
    case relu
    /// `1 / (1 + e^-x)`.
    case sigmoid
    /// `min(max(x, lo), hi)`; bounds from attributes (opset < 11) or inputs 1 and 2.
    case clip(min: Float?, max: Float?)
    /// Passes its input through.
    case identity
    /// Reshapes to 2-D, keeping dimensions before `axis` as rows.
    case flatten(axis: Int)
    /// Normalised exponential along `axis`.
    case softmax(axis: Int)
    /// Reshape to the shape in input 1 (0 copies a dimension unless `allowZero`, −1 is inferred).
    case reshape(allowZero: Bool)
    /// Permutes dimensions (`perm` nil: reverse them).
    case transpose(perm: [Int]?)
    /// Removes dimensions of size 1 (axes from the attribute before opset 13, else input 1).
    case squeeze(axes: [Int]?)
    /// Inserts dimensions of size 1.
    case unsqueeze(axes: [Int]?)
    /// The input's shape as an int64 vector, `[start, end)`.
    case shape(start: Int, end: Int?)
    /// Picks slices along `axis` by the indices in input 1.
    case gather(axis: Int)
    /// Joins tensors along `axis`.
    case concat(axis: Int)
    /// Converts the element type.
    case cast(to: DType)
    /// Inference-mode batch normalization over axis 1.
    case batchNormalization(epsilon: Float)
    /// The `k` (input 1) largest or smallest along `axis`: values and int64 indices.
    case topK(axis: Int, largest: Bool, sorted: Bool)
    /// Index of the largest element along `axis`.
    case argMax(axis: Int, keepDims: Bool, selectLastIndex: Bool)
    /// QONNX `Quant(x, scale, zeropt, bitwidth)`.
    case quant(signed: Bool, narrow: Bool, rounding: RoundingMode)
    /// QONNX `BipolarQuant(x, scale)`: ±scale by the sign, 0 counting as positive.
    case bipolarQuant
    /// QONNX `Trunc` (version 1: `(x, scale, zeropt, in_bits, out_bits)`; 2: adds the output scale).
    case trunc(rounding: RoundingMode, signed: Bool, narrow: Bool, version: Int)
    /// FINN `MultiThreshold(x, thresholds)`: `out_scale · #{t ≤ x} + out_bias` per channel.
    case multiThreshold(outDType: String, outScale: Float, outBias: Float, dataLayout: String)
    /// ONNX `QuantizeLinear(x, scale, zero_point)`: round half to even, saturate.
    case quantizeLinear(axis: Int, saturate: Bool)
    /// ONNX `DequantizeLinear(x, scale, zero_point)`.
    case dequantizeLinear(axis: Int)
    /// ONNX `QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp)`.
    case qLinearMatMul
    /// ONNX `MatMulInteger(a, b, a_zp, b_zp)`: int32 products of zero-point-corrected integers.
    case matMulInteger
    /// ONNX `Conv`.
    case conv(ConvAttributes)
    /// ONNX `ConvInteger(x, w, x_zp, w_zp)`.
    case convInteger(ConvAttributes)
    /// ONNX `QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, bias)`.
    case qLinearConv(ConvAttributes)
    /// ONNX `MaxPool` (the indices output is not supported).
    case maxPool(PoolAttributes)
    /// ONNX `AveragePool`.
    case averagePool(PoolAttributes, countIncludePad: Bool)
    /// ONNX `GlobalAveragePool`: the mean over all spatial positions, per channel.
    case globalAveragePool
    /// ONNX `GlobalMaxPool`.
    case globalMaxPool
    /// ONNX `Pad` in `constant` mode (pads and value from attributes before opset 11, else inputs 1 and 2).
    case pad(pads: [Int]?, value: Float?)

    /// The ONNX name of the op, for messages.
    public var onnxName: String {
        switch self {
        case .gemm: "Gemm"
        case .matMul: "MatMul"
        case .add: "Add"
        case .sub: "Sub"
        case .mul: "Mul"
        case .div: "Div"
        case .relu: "Relu"
        case .sigmoid: "Sigmoid"
        case .clip: "Clip"
        case .identity: "Identity"
        case .flatten: "Flatten"
        case .softmax: "Softmax"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .squeeze: "Squeeze"
        case .unsqueeze: "Unsqueeze"
        case .shape: "Shape"
        case .gather: "Gather"
        case .concat: "Concat"
        case .cast: "Cast"
        case .batchNormalization: "BatchNormalization"
        case .topK: "TopK"
        case .argMax: "ArgMax"
        case .quant: "Quant"
        case .bipolarQuant: "BipolarQuant"
        case .trunc: "Trunc"
        case .multiThreshold: "MultiThreshold"
        case .quantizeLinear: "QuantizeLinear"
        case .dequantizeLinear: "DequantizeLinear"
        case .qLinearMatMul: "QLinearMatMul"
        case .matMulInteger: "MatMulInteger"
        case .conv: "Conv"
        case .convInteger: "ConvInteger"
        case .qLinearConv: "QLinearConv"
        case .maxPool: "MaxPool"
        case .averagePool: "AveragePool"
        case .globalAveragePool: "GlobalAveragePool"
        case .globalMaxPool: "GlobalMaxPool"
        case .pad: "Pad"
        }
    }

    /// The domain the op is written in after canonicalisation (`""` is ONNX's default domain).
    public var domain: String {
        switch self {
        case .quant, .bipolarQuant, .trunc, .multiThreshold: "qonnx.custom_op.general"
        default: ""
        }
    }

    /// Inputs the op takes (optional ones included in the upper bound) and outputs it defines.
    public var arity: (inputs: ClosedRange<Int>, outputs: ClosedRange<Int>) {
        switch self {
        case .gemm: (2...3, 1...1)
        case .matMul, .add, .sub, .mul, .div, .gather, .multiThreshold: (2...2, 1...1)
        case .relu, .sigmoid, .identity, .flatten, .softmax, .transpose, .shape, .cast, .argMax: (1...1, 1...1)
        case .clip: (1...3, 1...1)
        case .reshape: (2...2, 1...1)
        case .squeeze, .unsqueeze: (1...2, 1...1)
        case .concat: (1...Int.max, 1...1)
        case .batchNormalization: (5...5, 1...1)
        case .topK: (2...2, 1...2)
        case .quant: (4...4, 1...1)
        case .bipolarQuant: (2...2, 1...1)
        case let .trunc(_, _, _, version): version == 1 ? (5...5, 1...1) : (6...6, 1...1)
        case .quantizeLinear, .dequantizeLinear: (2...3, 1...1)
        case .qLinearMatMul: (8...8, 1...1)
        case .matMulInteger: (2...4, 1...1)
        case .conv: (2...3, 1...1)
        case .convInteger: (2...4, 1...1)
        case .qLinearConv: (8...9, 1...1)
        case .maxPool: (1...1, 1...2)
        case .averagePool, .globalAveragePool, .globalMaxPool: (1...1, 1...1)
        case .pad: (1...4, 1...1)
        }
    }
}

/// One operation applied to named values.
public struct Node: Equatable, Sendable {
    /// The node's name; importers invent `OpType_index` when the file has none.
    public var name: String
    /// What the node computes.
    public var op: Op
    /// Names of the values it reads, in the op's argument order (`""` for an omitted optional input).
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
    /// Element type.
    public var dtype: DType

    /// Creates a value description.
    public init(name: String, shape: [Int?], dtype: DType = .float32) {
        self.name = name
        self.shape = shape
        self.dtype = dtype
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
    /// QONNX integer datatypes (`finn_datatype` annotations: `INT8`, `UINT4`, `BIPOLAR`, …) by value name.
    public var datatypes: [String: String]
    /// Opset version per domain (`""` for ONNX's default domain).
    public var opsets: [String: Int]

    /// Creates a graph.
    public init(name: String, inputs: [ValueInfo], outputs: [ValueInfo], nodes: [Node], initializers: [String: FloatTensor],
                datatypes: [String: String] = [:], opsets: [String: Int] = ["": 13]) {
        self.name = name
        self.inputs = inputs
        self.outputs = outputs
        self.nodes = nodes
        self.initializers = initializers
        self.datatypes = datatypes
        self.opsets = opsets
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
