// Reads and writes NumPy `.npy` arrays (format versions 1-3, C order, little endian).
import Foundation

/// An n-dimensional numeric array as stored in a `.npy` file.
public struct NPYArray: Equatable, Sendable {
    /// Element type, as numpy's `descr`.
    public enum DType: String, Sendable, CaseIterable {
        case float32 = "<f4", float64 = "<f8", int8 = "|i1", uint8 = "|u1", int16 = "<i2", uint16 = "<u2"
        case int32 = "<i4", int64 = "<i8", bool = "|b1"

        var width: Int {
            switch self {
            case .int8, .uint8, .bool: 1
            case .int16, .uint16: 2
            case .float32, .int32: 4
            case .float64, .int64: 8
            }
        }

        /// Whether the type holds integers (bool counts as one).
        public var isInteger: Bool { self != .float32 && self != .float64 }
    }

    /// Dimensions, outermost first.
    public var shape: [Int]
    /// Element type as stored.
    public var dtype: DType
    /// Elements in row-major order, widened to Double (exact for every integer type up to 2^53).
    public var values: [Double]

    /// Creates an array; the element count must match the shape.
    public init(shape: [Int], dtype: DType, values: [Double]) {
        precondition(shape.reduce(1, *) == values.count)
        self.shape = shape
        self.dtype = dtype
        self.values = values
    }

    /// Rows of a 2-D array, or the single row of a 1-D one.
    public var rows: [[Double]] {
        var width = shape.count <= 1 ? values.count : 1
        for d in shape.dropFirst() {
            let (p, overflow) = width.multipliedReportingOverflow(by: d)
            guard !overflow else { return [] }
            width = p
        }
        guard width > 0 else { return [] }
        return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<$0 + width]) }
    }
}

/// Reader and writer for `.npy` files.
public enum NPY {
    /// Reads the array at `path`.
    public static func read(path: String) throws -> NPYArray {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ImportError.unreadable(file: path, reason: (error as NSError).localizedDescription)
        }
        return try decode(data, file: path)
    }

    /// Decodes `.npy` bytes; `file` names them in messages.
    public static func decode(_ data: Data, file: String) throws -> NPYArray {
        let bytes = [UInt8](data)
        func fail(_ reason: String) -> ImportError { .malformed(file: file, reason: "not a valid .npy file: \(reason)") }
        guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1...5]) == Array("NUMPY".utf8) else { throw fail("bad magic") }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default: throw fail("unknown format version \(major)")
        }
        guard headerLength <= 1 << 20, headerStart + headerLength <= bytes.count else { throw fail("truncated header") }
        guard let header = String(bytes: bytes[headerStart..<headerStart + headerLength], encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw fail("header is not text")
        }
        guard let descr = field("descr", in: header), let order = field("fortran_order", in: header), let shapeText = field("shape", in: header) else {
            throw fail("header lacks descr, fortran_order or shape")
        }
        let descrName = descr.trimmingCharacters(in: CharacterSet(charactersIn: "'\" "))
        guard let dtype = NPYArray.DType(rawValue: descrName) ?? (descrName == "<u1" ? .uint8 : descrName == "<i1" ? .int8 : descrName == "<b1" ? .bool : nil) else {
            throw ImportError.malformed(file: file, reason: "unsupported .npy dtype \(descrName) (supported: float32, float64, int8-64, uint8, uint16, bool, little endian)")
        }
        guard order.trimmingCharacters(in: .whitespaces) == "False" else { throw ImportError.malformed(file: file, reason: "Fortran-order .npy arrays are not supported") }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw fail("bad shape \(shapeText)") }
            shape.append(d)
        }
        // Row width and element count with overflow checks: a zero dimension must not hide absurd others.
        var count = 1, rowWidth = 1
        for (i, d) in shape.enumerated() {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 31, d <= 1 << 31 else { throw fail("shape \(shape) is too large") }
            count = p
            if i > 0 {
                let (w, ow) = rowWidth.multipliedReportingOverflow(by: d)
                guard !ow, w <= 1 << 31 else { throw fail("shape \(shape) is too large") }
                rowWidth = w
            }
        }
        let start = headerStart + headerLength
        guard bytes.count - start == count * dtype.width else {
            throw fail("data has \(bytes.count - start) bytes, shape \(shape) of \(descrName) needs \(count * dtype.width)")
        }
        let values: [Double] = bytes.withUnsafeBytes { buf in
            (0..<count).map { i in
                let o = start + i * dtype.width
                func load<T: FixedWidthInteger>(_: T.Type) -> T { T(littleEndian: buf.loadUnaligned(fromByteOffset: o, as: T.self)) }
                switch dtype {
                case .float32: return Double(Float(bitPattern: load(UInt32.self)))
                case .float64: return Double(bitPattern: load(UInt64.self))
                case .int8: return Double(load(Int8.self))
                case .uint8: return Double(load(UInt8.self))
                case .bool: return load(UInt8.self) == 0 ? 0 : 1
                case .int16: return Double(load(Int16.self))
                case .uint16: return Double(load(UInt16.self))
                case .int32: return Double(load(Int32.self))
                case .int64: return Double(load(Int64.self))
                }
            }
        }
        return NPYArray(shape: shape, dtype: dtype, values: values)
    }

    /// The text of `key`'s value in a numpy header dict, up to the next top-level comma.
    static func field(_ key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)':") ?? header.range(of: "\"\(key)\":") else { return nil }
        var depth = 0
        var out = ""
        for ch in header[r.upperBound...] {
            if ch == "(" { depth += 1 }
            if ch == ")" { depth -= 1 }
            if (ch == "," && depth == 0) || ch == "}" { break }
            out.append(ch)
            if depth < 0 { return nil }
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    /// Encodes an array as version-1 `.npy` bytes.
    public static func encode(_ array: NPYArray) -> Data {
        let shapeText = array.shape.count == 1 ? "(\(array.shape[0]),)" : "(\(array.shape.map(String.init).joined(separator: ", ")))"
        var header = "{'descr': '\(array.dtype.rawValue)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad so the data starts on a 64-byte boundary, as numpy does.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = header.utf8.count
        data.append(contentsOf: [UInt8(n & 0xff), UInt8(n >> 8)])
        data.append(contentsOf: Array(header.utf8))
        for v in array.values {
            switch array.dtype {
            case .float32: append(&data, Float(v).bitPattern)
            case .float64: append(&data, v.bitPattern)
            case .int8: append(&data, Int8(v))
            case .uint8: append(&data, UInt8(v))
            case .bool: append(&data, UInt8(v == 0 ? 0 : 1))
            case .int16: append(&data, Int16(v))
            case .uint16: append(&data, UInt16(v))
            case .int32: append(&data, Int32(v))
            case .int64: append(&data, Int64(v))
            }
        }
        return data
    }

    /// Writes `array` to `path`.
    public static func write(_ array: NPYArray, to path: String) throws {
        try encode(array).write(to: URL(fileURLWithPath: path))
    }

    static func append<T: FixedWidthInteger>(_ data: inout Data, _ v: T) {
        withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) }
    }
}
