// Large integer arrays of the IR (weights, codes, tables, thresholds) are stored
// as binary blobs in the design directory and referenced from model.hwir.json by
// (blob, offset, count, element type); small ones stay inline.
import Foundation

/// Where a blobbed array lives: `count` little-endian integers of `dtype` at byte `offset` of `blob`.
public struct BlobReference: Codable, Hashable, Sendable {
    /// File name in the design directory (`weights.bin`).
    public var blob: String
    /// Byte offset (a multiple of 8).
    public var offset: Int
    /// Number of integers.
    public var count: Int
    /// `i8`, `i16`, `i32` or `i64`.
    public var dtype: String
}

/// Collects the blobs of a program while it is encoded.
public final class BlobWriter: @unchecked Sendable {
    /// File name of the blob.
    public let fileName: String
    /// Arrays shorter than this stay inline in the JSON.
    public let inlineLimit: Int
    /// The bytes so far.
    public private(set) var data = Data()

    /// A writer for `fileName`.
    public init(fileName: String = "weights.bin", inlineLimit: Int = 16) {
        self.fileName = fileName
        self.inlineLimit = inlineLimit
    }

    /// Appends `values` in the narrowest of i8/i16/i32/i64 that holds them.
    func append(_ values: [Int]) -> BlobReference {
        while data.count % 8 != 0 { data.append(0) }
        let lo = values.min() ?? 0, hi = values.max() ?? 0
        let bytes = lo >= -128 && hi <= 127 ? 1 : lo >= -32768 && hi <= 32767 ? 2 : lo >= Int(Int32.min) && hi <= Int(Int32.max) ? 4 : 8
        let offset = data.count
        data.reserveCapacity(data.count + values.count * bytes)
        for v in values {
            var x = UInt64(bitPattern: Int64(v))
            for _ in 0..<bytes {
                data.append(UInt8(x & 0xff))
                x >>= 8
            }
        }
        return BlobReference(blob: fileName, offset: offset, count: values.count, dtype: "i\(bytes * 8)")
    }
}

/// Serves blobs to the decoder.
public final class BlobReader: @unchecked Sendable {
    /// Blob contents by file name.
    public let blobs: [String: Data]

    /// A reader over loaded blob files.
    public init(blobs: [String: Data]) { self.blobs = blobs }

    func read(_ ref: BlobReference) throws -> [Int] {
        guard let data = blobs[ref.blob] else { throw BlobError(reason: "blob '\(ref.blob)' is missing") }
        guard let bits = Int(ref.dtype.dropFirst()), [8, 16, 32, 64].contains(bits), ref.dtype.hasPrefix("i") else {
            throw BlobError(reason: "blob '\(ref.blob)': unknown element type '\(ref.dtype)'")
        }
        let bytes = bits / 8
        guard ref.offset >= 0, ref.count >= 0, ref.offset + ref.count * bytes <= data.count else {
            throw BlobError(reason: "blob '\(ref.blob)' is shorter than \(ref.offset + ref.count * bytes) bytes")
        }
        return data.withUnsafeBytes { buf in
            (0..<ref.count).map { i in
                let at = ref.offset + i * bytes
                switch bytes {
                case 1: return Int(Int8(bitPattern: buf[at]))
                case 2: return Int(Int16(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case 4: return Int(Int32(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                default: return Int(Int64(littleEndian: buf.loadUnaligned(fromByteOffset: at, as: Int64.self)))
                }
            }
        }
    }
}

/// A blob reference that cannot be resolved.
public struct BlobError: Error, CustomStringConvertible {
    /// Why.
    public var reason: String
    public var description: String { reason }
}

extension CodingUserInfoKey {
    /// A `BlobWriter` during encoding: large arrays go there.
    public static let blobWriter = CodingUserInfoKey(rawValue: "lutforge.blobWriter")!
    /// A `BlobReader` during decoding.
    public static let blobReader = CodingUserInfoKey(rawValue: "lutforge.blobReader")!
}

/// An integer array of the IR that is encoded as a blob reference when a `BlobWriter` is present.
@propertyWrapper
public struct Blob: Codable, Hashable, Sendable {
    /// The integers.
    public var wrappedValue: [Int]

    /// Wraps `wrappedValue`.
    public init(wrappedValue: [Int]) { self.wrappedValue = wrappedValue }

    /// Decodes an inline array or a blob reference.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let inline = try? c.decode([Int].self) {
            wrappedValue = inline
            return
        }
        let ref = try c.decode(BlobReference.self)
        guard let reader = decoder.userInfo[.blobReader] as? BlobReader else {
            throw BlobError(reason: "array stored in blob '\(ref.blob)' but no blobs were loaded")
        }
        wrappedValue = try reader.read(ref)
    }

    /// Encodes a blob reference (with a writer and at least `inlineLimit` values) or an inline array.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let writer = encoder.userInfo[.blobWriter] as? BlobWriter, wrappedValue.count >= writer.inlineLimit {
            try c.encode(writer.append(wrappedValue))
        } else {
            try c.encode(wrappedValue)
        }
    }
}
