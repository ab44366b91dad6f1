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
        out += "  latency \(latencyCycles) cycles, interval \(initiationIntervalCycles) cycles\n"
        if let t = target { out += "  target \(t.device) (\(t.vendor) \(t.part)) at \(fmt(t.clockMHz)) MHz\n" }
        for kernel in kernels {
            switch kernel {
            case let .dsp(k): out += dump(k)
            case let .lut(k): out += dump(k)
            }
        }
        return out
    }

    private func fmt(_ v: Double) -> String { String(format: "%.9g", v) }

    private func row(_ values: some Sequence<Int>) -> String { values.map(String.init).joined(separator: " ") }

    private func scheduleLine(_ s: KernelSchedule) -> String {
        "  schedule passes \(s.passes) load \(s.loadCycles) search \(s.searchCycles) compute \(s.computeCycles) drain \(s.drainCycles) emit \(s.emitCycles)\n"
    }

    private func tableLine(_ t: ActivationTable?) -> String {
        guard let t else { return "" }
        return "  table \(t.function) \(t.input) -> \(t.output) [\(row(t.values))]\n"
    }

    private func dump(_ k: DSPKernel) -> String {
        var out = "\nkernel \(k.name) dsp \(k.inputCount) -> \(k.outputCount) lanes \(k.lanes) sparsity \(k.kept):\(k.blockSize) chain \(k.chainLength) group \(k.groupSize)  // \(k.sourceNodes.joined(separator: ", "))\n"
        out += "  types x \(k.input) w \(k.weight) b \(k.bias) acc \(k.accumulator) m \(k.multiplier) s \(k.shift) scaled \(k.scaled) y \(k.requantized)\n"
        out += "  scales x \(fmt(k.inputScale)) y \(fmt(k.outputScale))\n"
        out += scheduleLine(k.schedule)
        for n in 0..<k.outputCount {
            let q = k.requantizers[n]
            out += "  out \(n): b \(k.biases[n]) m \(q.multiplier) s \(q.shift) w [\(row((0..<k.inputCount).map { k.weight(output: n, input: $0) }))]\n"
        }
        return out + tableLine(k.table)
    }

    private func dump(_ k: LUTKernel) -> String {
        var out = "\nkernel \(k.name) lut \(k.inputCount) -> \(k.outputCount)  // \(k.sourceNodes.joined(separator: ", "))\n"
        out += "  options v \(k.vectorLength) ka \(k.activationCentroids) kw \(k.weightCentroids) s \(k.groupColumns) distance \(k.distance.rawValue) lanes search \(k.searchLanes) column \(k.columnLanes) position \(k.positionLanes)\n"
        out += "  types x \(k.input) dist \(k.distanceType) t \(k.entry) b \(k.bias) acc \(k.accumulator) l \(k.multiplierShift) s \(k.shift) scaled \(k.scaled) y \(k.requantized)\n"
        out += "  scales x \(fmt(k.inputScale)) y \(fmt(k.outputScale))\n"
        out += scheduleLine(k.schedule)
        for n in 0..<k.outputCount {
            let q = k.requantizers[n]
            out += "  out \(n): b \(k.biases[n]) m \(q.multiplier) s \(q.shift) codes [\(row((0..<k.positions).map { k.code($0, n) }))]\n"
        }
        for p in 0..<k.positions {
            let cs = (0..<k.activationCentroids).map { c in "(" + row((0..<k.vectorLength).map { k.centroid(p, c, $0) }) + ")" }
            out += "  position \(p) centroids [\(cs.joined(separator: " "))]\n"
            for g in 0..<k.groups {
                for c in 0..<k.activationCentroids {
                    out += "    T[\(p)][\(g)][\(c)] [\(row((0..<k.weightCentroids).map { k.entry(p, g, c, $0) }))]\n"
                }
            }
        }
        return out + tableLine(k.table)
    }

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
