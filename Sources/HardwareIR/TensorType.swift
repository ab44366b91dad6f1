// The type of every value on a HardwareIR stream: element (signed, unsigned or
// bipolar with its bits), logical shape, and what one integer step is worth.

/// What the integers of a stream are: their set of values and how the hardware stores them.
public struct ElementType: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Signedness and encoding of an element.
    public enum Kind: String, Codable, Hashable, Sendable {
        /// Two's complement.
        case signed
        /// Plain binary.
        case unsigned
        /// The two values −1 and +1 (FINN's BIPOLAR), stored as the 2-bit signed integers −1 and 1.
        case bipolar
    }

    /// Encoding.
    public var kind: Kind
    /// Bits of the integer type (1 for bipolar).
    public var bits: Int
    /// Narrow range (QONNX `narrow`): signed types lose their most negative value, unsigned ones
    /// their largest, so `int8 narrow` is −127…127 and `uint8 narrow` 0…254. Storage is unchanged.
    public var narrow: Bool

    /// Creates an element type.
    public init(kind: Kind, bits: Int, narrow: Bool = false) {
        precondition(bits >= 1 && bits <= 62, "element width \(bits) out of range")
        precondition(kind != .bipolar || bits == 1, "bipolar elements have one bit")
        precondition(!narrow || (kind != .bipolar && bits >= 2), "narrow needs at least two bits")
        self.kind = kind
        self.bits = bits
        self.narrow = narrow
    }

    /// `iN` (`narrow`: without −2^(N−1)).
    public static func int(_ bits: Int, narrow: Bool = false) -> ElementType { ElementType(kind: .signed, bits: bits, narrow: narrow) }
    /// `uN` (`narrow`: without 2^N − 1).
    public static func uint(_ bits: Int, narrow: Bool = false) -> ElementType { ElementType(kind: .unsigned, bits: bits, narrow: narrow) }
    /// `bipolar`: −1 or +1.
    public static let bipolar = ElementType(kind: .bipolar, bits: 1)

    /// The element type of integer type `t`.
    public init(_ t: IntType) { self.init(kind: t.signed ? .signed : .unsigned, bits: t.bits) }

    /// The integer type the hardware carries it in (bipolar: `i2`).
    public var storage: IntType {
        switch kind {
        case .signed: .int(bits)
        case .unsigned: .uint(bits)
        case .bipolar: .int(2)
        }
    }

    /// Smallest value.
    public var min: Int { kind == .bipolar ? -1 : storage.min + (narrow && kind == .signed ? 1 : 0) }
    /// Largest value.
    public var max: Int { kind == .bipolar ? 1 : storage.max - (narrow && kind == .unsigned ? 1 : 0) }

    /// Whether `v` is one of the element's values.
    public func contains(_ v: Int) -> Bool { kind == .bipolar ? (v == -1 || v == 1) : (min...max).contains(v) }

    /// `i8`, `u4`, `i8n` (narrow), `bipolar`.
    public var description: String { kind == .bipolar ? "bipolar" : storage.description + (narrow ? "n" : "") }

    private enum CodingKeys: String, CodingKey { case kind, bits, narrow }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try c.decode(Kind.self, forKey: .kind), bits = try c.decode(Int.self, forKey: .bits)
        let narrow = try c.decodeIfPresent(Bool.self, forKey: .narrow) ?? false
        guard (1...62).contains(bits), kind != .bipolar || bits == 1, !narrow || (kind != .bipolar && bits >= 2) else {
            throw DecodingError.dataCorruptedError(forKey: .bits, in: c, debugDescription: "no element type \(kind.rawValue) of \(bits) bits\(narrow ? " narrow" : "")")
        }
        self.init(kind: kind, bits: bits, narrow: narrow)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        try c.encode(bits, forKey: .bits)
        if narrow { try c.encode(true, forKey: .narrow) }
    }
}

/// What one integer step of a stream is worth: `real = (q − zeroPoint) · scale`, per
/// tensor (one entry) or per channel (one entry per element of the channel axis).
public struct Quantization: Codable, Hashable, Sendable {
    /// Scale per tensor (`[s]`) or per channel.
    public var scales: [Double]
    /// Integer zero point per tensor (`[z]`) or per channel.
    public var zeroPoints: [Int]

    /// Creates a quantization.
    public init(scales: [Double], zeroPoints: [Int]? = nil) {
        precondition(!scales.isEmpty)
        self.scales = scales
        self.zeroPoints = zeroPoints ?? [Int](repeating: 0, count: scales.count)
    }

    /// Per-tensor scale `s`, zero point `z`.
    public static func scale(_ s: Double, zeroPoint z: Int = 0) -> Quantization { Quantization(scales: [s], zeroPoints: [z]) }

    /// Scale of channel `c` (per-tensor quantizations repeat their one scale).
    public func scale(_ c: Int) -> Double { scales.count == 1 ? scales[0] : scales[c] }
    /// Zero point of channel `c`.
    public func zeroPoint(_ c: Int) -> Int { zeroPoints.count == 1 ? zeroPoints[0] : zeroPoints[c] }
    /// Whether every channel shares one scale and zero point.
    public var isPerTensor: Bool { Set(scales).count == 1 && Set(zeroPoints).count == 1 }
    /// The real value of integer `q` in channel `c`.
    public func real(_ q: Int, channel c: Int) -> Double { Double(q - zeroPoint(c)) * scale(c) }
}

/// The type of a value: element type, logical shape (without the batch dimension) and quantization.
public struct TensorType: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Element type.
    public var element: ElementType
    /// Logical shape, outermost first; the stream carries the elements in row-major order.
    public var shape: [Int]
    /// Real value of the integers, when it is known (absent for raw accumulators and indices).
    public var quant: Quantization?
    /// Inferences are streamed as frames: one for a vector (MLP), H'·W' windows for a convolution.
    public var framesPerInference: Int
    /// Elements transferred per handshake.
    public var elementsPerBeat: Int

    /// Creates a type.
    public init(element: ElementType, shape: [Int], quant: Quantization? = nil, framesPerInference: Int = 1, elementsPerBeat: Int = 1) {
        self.element = element
        self.shape = shape
        self.quant = quant
        self.framesPerInference = framesPerInference
        self.elementsPerBeat = elementsPerBeat
    }

    /// A vector of `count` elements.
    public static func vector(_ element: ElementType, _ count: Int, quant: Quantization? = nil) -> TensorType {
        TensorType(element: element, shape: [count], quant: quant)
    }

    /// Elements per inference.
    public var count: Int { shape.reduce(1, *) }
    /// Elements per frame.
    public var frameSize: Int { count / max(framesPerInference, 1) }

    /// A feature map of `positions` (the spatial shape, outermost first) by `channels`, streamed
    /// position by position with the channels of each position together (channels-last): one frame per position.
    public static func map(_ element: ElementType, positions: [Int], channels: Int, quant: Quantization? = nil) -> TensorType {
        TensorType(element: element, shape: positions + [channels], quant: quant, framesPerInference: positions.reduce(1, *))
    }
    /// Handshakes per inference.
    public var beats: Int { (count + elementsPerBeat - 1) / elementsPerBeat }
    /// Length of the channel axis (the innermost dimension) that per-channel quantizations index.
    public var channels: Int { shape.last ?? 1 }
    /// The integer type the hardware carries.
    public var storage: IntType { element.storage }

    /// `i8[10] scale 0.5`, `u4[8x8x16]/64` (a map of 64 frames).
    public var description: String {
        var s = "\(element)[\(shape.map(String.init).joined(separator: "x"))]"
        if framesPerInference > 1 { s += "/\(framesPerInference)" }
        if let q = quant {
            if q.isPerTensor {
                s += " scale \(fmt(q.scales[0]))"
                if q.zeroPoints[0] != 0 { s += " zp \(q.zeroPoints[0])" }
            } else {
                s += " scale per-channel(\(q.scales.count))"
                if q.zeroPoints.contains(where: { $0 != 0 }) { s += " zp per-channel" }
            }
        }
        return s
    }
}

/// `%.9g`: enough digits to read a float32 scale back exactly.
public func fmt(_ v: Double) -> String { String(format: "%.9g", v) }

/// How a stream orders the elements of the model tensor it stands for.
public enum StreamLayout: Codable, Hashable, Sendable {
    /// An `[1, C, spatial…]` tensor streamed position by position, the `channels` of each
    /// position together (channels-last): model element `c·P + p` is stream element `p·C + c`.
    case channelsLast(channels: Int)

    /// The stream index of each model element, for a tensor of `count` elements.
    public func streamIndices(count: Int) -> [Int] {
        switch self {
        case let .channelsLast(c):
            let p = count / max(c, 1)
            return (0..<count).map { m in (m % p) * c + m / p }
        }
    }

    /// `values` in model order, rearranged into stream order.
    public func toStream<T>(_ values: [T]) -> [T] {
        let index = streamIndices(count: values.count)
        var out = values
        for (m, s) in index.enumerated() { out[s] = values[m] }
        return out
    }

    /// `values` in stream order, rearranged into model order.
    public func toModel<T>(_ values: [T]) -> [T] {
        let index = streamIndices(count: values.count)
        return index.map { values[$0] }
    }
}
