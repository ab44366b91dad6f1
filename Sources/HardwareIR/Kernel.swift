// One kernel of a program, of any kind, and what every consumer needs from all kinds.

/// A lowered layer.
public enum Kernel: Codable, Hashable, Sendable {
    /// Dense multiply-accumulate (the N = M case of the DSP chain).
    case dense(DenseKernel)
    /// LUT-based vector-quantized linear layer.
    case lut(LUTKernel)

    /// Identifier used for generated names.
    public var name: String {
        switch self {
        case let .dense(k): k.name
        case let .lut(k): k.name
        }
    }
    /// The model nodes it implements.
    public var sourceNodes: [String] {
        switch self {
        case let .dense(k): k.sourceNodes
        case let .lut(k): k.sourceNodes
        }
    }
    /// Input vector length.
    public var inputCount: Int {
        switch self {
        case let .dense(k): k.inputCount
        case let .lut(k): k.inputCount
        }
    }
    /// Output vector length.
    public var outputCount: Int {
        switch self {
        case let .dense(k): k.outputCount
        case let .lut(k): k.outputCount
        }
    }
    /// Input element type.
    public var input: IntType {
        switch self {
        case let .dense(k): k.input
        case let .lut(k): k.input
        }
    }
    /// Output element type.
    public var output: IntType {
        switch self {
        case let .dense(k): k.output
        case let .lut(k): k.output
        }
    }
    /// Real value of one input step.
    public var inputScale: Double {
        switch self {
        case let .dense(k): k.inputScale
        case let .lut(k): k.inputScale
        }
    }
    /// Real value of one output step.
    public var outputScale: Double {
        switch self {
        case let .dense(k): k.outputScale
        case let .lut(k): k.outputScale
        }
    }
    /// Cycle schedule.
    public var schedule: KernelSchedule {
        switch self {
        case let .dense(k): k.schedule
        case let .lut(k): k.schedule
        }
    }
    /// Activation table after requantization, if any.
    public var table: ActivationTable? {
        switch self {
        case let .dense(k): k.table
        case let .lut(k): k.table
        }
    }
    /// `dense` or `lut`, for messages and reports.
    public var kind: String {
        switch self {
        case .dense: "dense"
        case .lut: "lut"
        }
    }
}

extension Kernel {
    private enum CodingKeys: String, CodingKey { case dense, lut }

    /// Decodes `{"dense": {…}}` or `{"lut": {…}}`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let k = try c.decodeIfPresent(DenseKernel.self, forKey: .dense) {
            self = .dense(k)
        } else {
            self = .lut(try c.decode(LUTKernel.self, forKey: .lut))
        }
    }

    /// Encodes as a one-key object naming the kind.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .dense(k): try c.encode(k, forKey: .dense)
        case let .lut(k): try c.encode(k, forKey: .lut)
        }
    }
}
