// The stable textual form of a Program (`model.hwir`) and its JSON form
// (`model.hwir.json` plus the `weights.bin` blob), which `verify` and `run` read back.
import Foundation

extension Program {
    /// Human-readable, deterministic listing of every value, kernel, type, table and schedule.
    public func dump() -> String {
        var out = "// LUTForge HardwareIR\n"
        out += "program \(name) from \(sourceFile)\n"
        out += "  input \(input): \(inputType)\n"
        switch outputMeaning {
        case let .logits(node): out += "  output \(output): \(outputType) logits (argmax of Softmax '\(node)')\n"
        case let .classIndex(node): out += "  output \(output): \(outputType) class index ('\(node)')\n"
        case .values: out += "  output \(output): \(outputType)\n"
        }
        out += "  calibration \(calibration)\n"
        if let t = try? timing() {
            out += "  latency \(t.latencyCycles) cycles, interval \(t.intervalCycles) cycles\n"
        } else {
            out += "  latency unknown: the schedule does not complete\n"
        }
        if let t = target { out += "  target \(t.device) (\(t.vendor) \(t.part)) at \(fmt(t.clockMHz)) MHz\n" }
        for node in nodes {
            let k = node.kernel.base, s = k.schedule
            out += "\nnode \(node.name) \(node.kind) (\(node.inputs.joined(separator: ", "))) -> \(node.output): \(values[node.output].map(String.init(describing:)) ?? "?")"
            out += "  // \(node.sourceNodes.joined(separator: ", "))\n"
            out += "  schedule \(s.summary)\n"
            for line in k.dumpLines() { out += "  \(line)\n" }
        }
        return out
    }

    /// Deterministic JSON encoding (sorted keys); large arrays go to `blobs` when it is given.
    public func jsonData(blobs: BlobWriter? = nil) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        if let blobs { encoder.userInfo[.blobWriter] = blobs }
        return try encoder.encode(self)
    }

    /// Decodes the JSON written by `jsonData(blobs:)`, reading arrays from `blobs`.
    public static func fromJSON(_ data: Data, blobs: [String: Data] = [:]) throws -> Program {
        let decoder = JSONDecoder()
        decoder.userInfo[.blobReader] = BlobReader(blobs: blobs)
        return try decoder.decode(Program.self, from: data)
    }
}
