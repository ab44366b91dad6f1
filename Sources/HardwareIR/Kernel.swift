// One kernel of a program, of any kind, and what every consumer needs from all kinds.

/// A lowered layer.
public enum Kernel: Codable, Hashable, Sendable {
    /// Multiply-accumulate chains on DSPs: N:M sparse, or dense (`N = M`).
    case dsp(DSPKernel)
    /// LUT-based vector-quantized linear layer.
    case lut(LUTKernel)

    /// Identifier used for generated names.
    public var name: String {
        switch self {
        case let .dsp(k): k.name
        case let .lut(k): k.name
        }
    }
    /// The model nodes it implements.
    public var sourceNodes: [String] {
        switch self {
        case let .dsp(k): k.sourceNodes
        case let .lut(k): k.sourceNodes
        }
    }
    /// Input vector length.
    public var inputCount: Int {
        switch self {
        case let .dsp(k): k.inputCount
        case let .lut(k): k.inputCount
        }
    }
    /// Output vector length.
    public var outputCount: Int {
        switch self {
        case let .dsp(k): k.outputCount
        case let .lut(k): k.outputCount
        }
    }
    /// Input element type.
    public var input: IntType {
        switch self {
        case let .dsp(k): k.input
        case let .lut(k): k.input
        }
    }
    /// Output element type.
    public var output: IntType {
        switch self {
        case let .dsp(k): k.output
        case let .lut(k): k.output
        }
    }
    /// Real value of one input step.
    public var inputScale: Double {
        switch self {
        case let .dsp(k): k.inputScale
        case let .lut(k): k.inputScale
        }
    }
    /// Real value of one output step.
    public var outputScale: Double {
        switch self {
        case let .dsp(k): k.outputScale
        case let .lut(k): k.outputScale
        }
    }
    /// Cycle schedule.
    public var schedule: KernelSchedule {
        switch self {
        case let .dsp(k): k.schedule
        case let .lut(k): k.schedule
        }
    }
    /// Activation table after requantization, if any.
    public var table: ActivationTable? {
        switch self {
        case let .dsp(k): k.table
        case let .lut(k): k.table
        }
    }
    /// `dsp` or `lut`, for messages and reports.
    public var kind: String {
        switch self {
        case .dsp: "dsp"
        case .lut: "lut"
        }
    }
}

extension Kernel {
    private enum CodingKeys: String, CodingKey { case dsp, lut }

    /// Decodes `{"dsp": {…}}` or `{"lut": {…}}`.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let k = try c.decodeIfPresent(DSPKernel.self, forKey: .dsp) {
            self = .dsp(k)
        } else {
            self = .lut(try c.decode(LUTKernel.self, forKey: .lut))
        }
    }

    /// Encodes as a one-key object naming the kind.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .dsp(k): try c.encode(k, forKey: .dsp)
        case let .lut(k): try c.encode(k, forKey: .lut)
        }
    }
}
