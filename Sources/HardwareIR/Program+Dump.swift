// The stable textual form of a Program (`model.hwir`) and its JSON form
// (`model.hwir.json`), which `verify` and `run` read back.
import Foundation

extension Program {
    /// Human-readable, deterministic listing of every type, table and schedule.
    public func dump() -> String {
        var out = "// LUTForge HardwareIR\n"
        out += "program \(name) from \(sourceFile)\n"
        out += "  input \(input)[\(inputCount)] scale \(fmt(inputScale))\n"
        switch outputMeaning {
        case let .logits(node): out += "  output \(output)[\(outputCount)] logits (argmax of Softmax '\(node)')\n"
        case .values: out += "  output \(output)[\(outputCount)] scale \(fmt(outputScale))\n"
        }
        out += "  calibration \(calibration)\n"
        out += "  latency \(latencyCycles) cycles\n"
        for k in kernels {
            out += "\nkernel \(k.name) dense \(k.inputCount) -> \(k.outputCount) lanes \(k.lanes)  // \(k.sourceNodes.joined(separator: ", "))\n"
            out += "  types x \(k.input) w \(k.weight) b \(k.bias) acc \(k.accumulator) m \(k.multiplier) s \(k.shift) scaled \(k.scaled) y \(k.requantized)"
            if let t = k.table { out += " table \(t.function) \(t.input) -> \(t.output)" }
            out += "\n"
            out += "  scales x \(fmt(k.inputScale)) y \(fmt(k.outputScale))\n"
            let s = k.schedule
            out += "  schedule passes \(s.passes) load \(s.loadCycles) compute \(s.computeCycles) drain \(s.drainCycles) emit \(s.emitCycles)\n"
            for n in 0..<k.outputCount {
                let row = (0..<k.inputCount).map { String(k.weight(output: n, input: $0)) }.joined(separator: " ")
                let q = k.requantizers[n]
                out += "  out \(n): b \(k.biases[n]) m \(q.multiplier) s \(q.shift) w [\(row)]\n"
            }
            if let t = k.table {
                out += "  table [\(t.values.map(String.init).joined(separator: " "))]\n"
            }
        }
        return out
    }

    private func fmt(_ v: Double) -> String { String(format: "%.9g", v) }

    /// Deterministic JSON encoding (sorted keys).
    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(self)
    }

    /// Decodes the JSON written by `jsonData()`.
    public static func fromJSON(_ data: Data) throws -> Program {
        try JSONDecoder().decode(Program.self, from: data)
    }
}
