// Exact two's-complement integer types: every value in hardware has one.

/// A signed or unsigned integer type of a given bit width (1...64 bits).
public struct IntType: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Two's complement when true, plain binary when false.
    public var signed: Bool
    /// Bit width.
    public var bits: Int

    /// Creates a type; widths above 62 are rejected so bounds stay exact in `Int`.
    public init(signed: Bool, bits: Int) {
        precondition(bits >= 1 && bits <= 62, "integer width \(bits) out of range")
        self.signed = signed
        self.bits = bits
    }

    /// Signed type of `bits` bits.
    public static func int(_ bits: Int) -> IntType { IntType(signed: true, bits: bits) }
    /// Unsigned type of `bits` bits.
    public static func uint(_ bits: Int) -> IntType { IntType(signed: false, bits: bits) }

    /// Smallest value of the type.
    public var min: Int { signed ? -(1 << (bits - 1)) : 0 }
    /// Largest value of the type.
    public var max: Int { signed ? (1 << (bits - 1)) - 1 : (1 << bits) - 1 }
    /// Number of distinct values.
    public var cardinality: Int { 1 << bits }

    /// Whether `v` is representable.
    public func contains(_ v: Int) -> Bool { v >= min && v <= max }

    /// `i8`, `u16`, …
    public var description: String { "\(signed ? "i" : "u")\(bits)" }

    /// The narrowest signed type holding every value in `lo...hi`; `nil` past 62 bits.
    public static func signedFitting(_ lo: Int, _ hi: Int) -> IntType? {
        for bits in 2...62 where IntType.int(bits).contains(lo) && IntType.int(bits).contains(hi) {
            return .int(bits)
        }
        return nil
    }

    /// The narrowest unsigned type holding every value in `0...hi`.
    public static func unsignedFitting(_ hi: Int) -> IntType? {
        for bits in 1...62 where IntType.uint(bits).contains(hi) { return .uint(bits) }
        return nil
    }
}
