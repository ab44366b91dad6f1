// safetensors reader (Hugging Face checkpoints): an 8-byte little-endian header
// length, a JSON header naming each tensor's dtype, shape and byte range, then the
// data. The file is memory-mapped; a tensor is converted to Float when it is read.
// F32, F16 and BF16 are supported; any other dtype is an error naming the tensor.
import Foundation

/// One `.safetensors` file, memory-mapped.
public struct SafeTensorsFile: Sendable {
    /// Element types of the format; LUTForge reads weights in the float ones (F32, F16, BF16).
    /// Others (a BERT checkpoint's I64 `position_ids`) may stand in a file beside the weights.
    public enum DType: String, Sendable, CaseIterable {
        case f32 = "F32", f16 = "F16", bf16 = "BF16"
        case f64 = "F64", i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

        /// Bytes per element.
        public var size: Int {
            switch self {
            case .f64, .i64: 8
            case .f32, .i32: 4
            case .f16, .bf16, .i16: 2
            case .i8, .u8, .bool: 1
            }
        }

        /// The dtypes weights may have.
        public static let weights: [DType] = [.f32, .f16, .bf16]
        public var isWeight: Bool { Self.weights.contains(self) }
        /// `dtype 'F64' is not supported (F32, F16, BF16)`.
        public var unsupported: String { "dtype '\(rawValue)' is not supported (\(Self.weights.map(\.rawValue).joined(separator: ", ")))" }
    }

    /// A tensor's header entry.
    public struct Entry: Sendable, Equatable {
        public var dtype: DType
        public var shape: [Int]
        /// Byte range in the file.
        public var bytes: Range<Int>
        public var count: Int { shape.reduce(1, *) }
    }

    /// The file's path.
    public let path: String
    /// Tensors by name.
    public let entries: [String: Entry]
    /// `__metadata__` (string to string).
    public let metadata: [String: String]
    private let data: Data

    /// Maps `path` and checks its header: every entry of a known dtype, its byte range inside
    /// the data and exactly `count × size` long.
    public init(path: String) throws {
        self.path = path
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw ImportError.unreadable(file: path, reason: error.localizedDescription)
        }
        func bad(_ reason: String) -> ImportError { .malformed(file: path, reason: "not a valid safetensors file: \(reason)") }
        guard data.count >= 8 else { throw bad("\(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n >= 2, n <= UInt64(data.count - 8), n < 100_000_000 else { throw bad("header length \(n) does not fit the \(data.count)-byte file") }
        let start = 8 + Int(n)
        let header: [String: Any]
        do {
            guard let h = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<start)) as? [String: Any] else { throw bad("the header is not a JSON object") }
            header = h
        } catch let e as ImportError { throw e } catch { throw bad("the header is not JSON (\(error.localizedDescription))") }
        var entries: [String: Entry] = [:], metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (k, v) in value as? [String: Any] ?? [:] { metadata[k] = v as? String ?? "\(v)" }
                continue
            }
            func invalid(_ reason: String) -> ImportError { .invalidTensor(file: path, tensor: name, reason: reason) }
            guard let e = value as? [String: Any], let dt = e["dtype"] as? String, let shape = e["shape"] as? [Int],
                  let offsets = e["data_offsets"] as? [Int], offsets.count == 2 else {
                throw invalid("header entry needs dtype, shape and data_offsets")
            }
            guard let dtype = DType(rawValue: dt) else {
                throw invalid("dtype '\(dt)' is not supported (\(DType.weights.map(\.rawValue).joined(separator: ", ")))")
            }
            guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }) < Int.max / 4 else {
                throw invalid("shape \(shape) is invalid")
            }
            let count = shape.reduce(1, *)
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= data.count - start else {
                throw invalid("data_offsets \(offsets) lie outside the \(data.count - start) data bytes")
            }
            guard offsets[1] - offsets[0] == count * dtype.size else {
                throw invalid("\(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dt), which needs \(count * dtype.size)")
            }
            entries[name] = Entry(dtype: dtype, shape: shape, bytes: (start + offsets[0])..<(start + offsets[1]))
        }
        self.entries = entries
        self.metadata = metadata
        self.data = data
    }

    /// The tensor `name` as Float (F16 and BF16 widened exactly).
    public func floats(_ name: String) throws -> [Float] {
        guard let e = entries[name] else { throw ImportError.invalidTensor(file: path, tensor: name, reason: "not in the file") }
        guard e.dtype.isWeight else { throw ImportError.invalidTensor(file: path, tensor: name, reason: e.dtype.unsupported) }
        return data.withUnsafeBytes { raw in
            let base = raw.baseAddress!.advanced(by: e.bytes.lowerBound)
            func u16(_ i: Int) -> UInt16 { UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
            switch e.dtype {
            case .f32: return (0..<e.count).map { Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .bf16: return (0..<e.count).map { Float(bitPattern: UInt32(u16($0)) << 16) }
            case .f16: return (0..<e.count).map { Self.half(u16($0)) }
            default: return []
            }
        }
    }

    /// IEEE 754 binary16 to Float, exactly (subnormals, infinities and NaN included).
    public static func half(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int((h >> 10) & 0x1f), mantissa = UInt32(h & 0x3ff)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa · 2^-24.
            let v = Float(mantissa) * 0x1p-24
            return sign != 0 ? -v : v
        case 31: return Float(bitPattern: sign | 0x7f80_0000 | mantissa << 13)
        default: return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
        }
    }
}

/// The weights of a Hugging Face checkpoint directory: `model.safetensors`, or the shards
/// `model.safetensors.index.json` maps tensor names to.
public struct SafeTensorsCheckpoint: Sendable {
    /// The directory.
    public let directory: String
    /// The file that names the tensors (`model.safetensors` or the index).
    public let source: String
    private let files: [String: SafeTensorsFile]
    private let location: [String: String]

    public init(directory: String) throws {
        self.directory = directory
        let single = "\(directory)/model.safetensors", index = "\(directory)/model.safetensors.index.json"
        let fm = FileManager.default
        if fm.fileExists(atPath: index) {
            source = index
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: index)) } catch {
                throw ImportError.unreadable(file: index, reason: error.localizedDescription)
            }
            guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let map = json["weight_map"] as? [String: String] else {
                throw ImportError.malformed(file: index, reason: "not a safetensors index (needs a weight_map of tensor names to shard files)")
            }
            var files: [String: SafeTensorsFile] = [:]
            for shard in Set(map.values).sorted() {
                guard !shard.contains("/") else { throw ImportError.malformed(file: index, reason: "shard '\(shard)' is not a file in the directory") }
                files[shard] = try SafeTensorsFile(path: "\(directory)/\(shard)")
            }
            for (name, shard) in map where files[shard]!.entries[name] == nil {
                throw ImportError.invalidTensor(file: "\(directory)/\(shard)", tensor: name, reason: "listed in the index but not in the shard")
            }
            self.files = files
            location = map
        } else if fm.fileExists(atPath: single) {
            source = single
            let f = try SafeTensorsFile(path: single)
            files = ["model.safetensors": f]
            location = f.entries.keys.reduce(into: [:]) { $0[$1] = "model.safetensors" }
        } else {
            throw ImportError.unreadable(file: directory, reason: "no model.safetensors or model.safetensors.index.json")
        }
    }

    /// Every tensor name.
    public var names: [String] { location.keys.sorted() }

    /// The header entry of `name`, nil when the checkpoint has no such tensor.
    public func entry(_ name: String) -> SafeTensorsFile.Entry? { location[name].flatMap { files[$0]?.entries[name] } }

    /// The tensor `name` with its shape; a missing tensor is an error naming the checkpoint file.
    public func tensor(_ name: String) throws -> (shape: [Int], values: [Float]) {
        guard let shard = location[name], let f = files[shard] else {
            throw ImportError.invalidTensor(file: source, tensor: name, reason: "missing from the checkpoint")
        }
        return (f.entries[name]!.shape, try f.floats(name))
    }
}
