// Entry points of the fuzz targets: every reader of a user file, fed arbitrary
// bytes. A thrown error is the reader doing its job; a crash, hang or runaway
// allocation is a bug. Used by `lutforge-fuzz` (libFuzzer) and by the
// regression tests, which replay the seed corpus and every crash found.
import Driver
import Foundation
import ModelGraph
import ModelImport

/// The fuzzed readers.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `.onnx` models: protobuf decoding, conversion to the graph, verification.
    case onnx
    /// `.npy` arrays.
    case npy
    /// YAML compile configs.
    case config

    /// Feeds `data` to the reader; returns whether it was accepted.
    @discardableResult
    public func run(_ data: Data) -> Bool {
        switch self {
        case .onnx:
            guard let graph = try? ONNXReader.read(data: data, file: "fuzz.onnx") else { return false }
            return (try? graph.verify()) != nil
        case .npy:
            guard let array = try? NPY.decode(data, file: "fuzz.npy") else { return false }
            _ = array.rows.count
            return true
        case .config:
            guard let text = String(data: data, encoding: .utf8) else { return false }
            return (try? ConfigFile.parse(text, file: "/fuzz/config.yaml")) != nil
        }
    }
}
