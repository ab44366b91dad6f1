// `verify --model`: the integer design against its source model, layer by layer.
// The model runs in the float interpreter (a float model as ONNX defines it; a
// QONNX or QDQ model with its quantizers' float32 semantics); each design value
// is compared, in real units, with the model value it stands for: SQNR, largest
// error, share of saturated values, and top-1 agreement at the output.
import Foundation
import HardwareIR
import ModelGraph
import ReferenceEngine

/// `fidelity.json`.
public struct FidelityReport: Codable, Sendable {
    /// One design value against its model value.
    public struct Layer: Codable, Sendable {
        /// Design node (kernel) that writes the value.
        public var node: String
        /// Kernel kind.
        public var kind: String
        /// The model value it stands for.
        public var modelValue: String
        /// Elements compared (over all vectors).
        public var elements: Int
        /// `10·log10(Σ ref² / Σ (ref − hw)²)`, dB (null when the two are identical).
        public var sqnrDb: Double?
        /// Largest `|ref − hw|`, real units.
        public var maxAbsError: Double
        /// Elements whose identical integer lies beyond the type, so the hardware clamped them.
        public var saturated: Double
        /// Elements whose integer equals the model's exactly (quantized models: the model's integer).
        public var exactShare: Double
    }

    /// Vectors compared.
    public var vectors: Int
    /// Per design value with a model counterpart, in program order.
    public var layers: [Layer]
    /// Share of vectors whose class (argmax of the output, or the index output) equals the model's.
    public var top1Agreement: Double?
    /// How the model was run.
    public var method: String

    /// Plain-text table for the terminal.
    public var table: String {
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
        var out = pad("node", 10) + pad("kind", 12) + pad("model value", 24) + pad("SQNR dB", 10) + pad("max |err|", 12) + pad("saturated", 11) + "exact\n"
        for l in layers {
            out += pad(l.node, 10) + pad(l.kind, 12) + pad(l.modelValue, 24) + pad(l.sqnrDb.map { String(format: "%.1f", $0) } ?? "inf", 10)
                + pad(String(format: "%.3g", l.maxAbsError), 12) + pad(String(format: "%.2f%%", 100 * l.saturated), 11)
                + String(format: "%.2f%%", 100 * l.exactShare) + "\n"
        }
        if let t = top1Agreement { out += String(format: "top-1 agreement with the model: %.2f%% of %d vectors\n", 100 * t, vectors) }
        return out
    }
}

enum Fidelity {
    /// Compares `program` with the model at `model` on `inputs` (and, for float inputs, the floats they came from).
    static func measure(_ program: Program, model: String, inputs: [[Int]], floats: [[Float]]?) throws -> FidelityReport {
        let graph = try Driver.loadModel(model)
        // The model's float input: as given, or what the design's integers stand for.
        let modelInputs: [[Float]] = floats ?? inputs.map { row in
            let model = program.layouts[program.input].map { $0.toModel(row) } ?? row
            return model.map { q in program.inputQuantizer?.real(q) ?? Float(q) }
        }
        struct Sum { var signal = 0.0, noise = 0.0, maxErr = 0.0, count = 0, saturated = 0, exact = 0 }
        var sums: [String: Sum] = [:]
        var agree = 0
        let compared = program.nodes.filter { program.sourceValues[$0.output] != nil && program.values[$0.output]?.quant != nil }
        for (x, q) in zip(modelInputs, inputs) {
            let env: [String: FloatTensor]
            do { env = try FloatInterpreter.evaluate(graph, input: x) } catch let e as FloatInterpreterError {
                throw UsageError("\(model): \(e)")
            }
            let hw = try IntegerEngine.evaluateAll(program, q)
            for node in compared {
                let value = node.output
                guard let ref = env[program.sourceValues[value]!], let t = program.values[value], let quant = t.quant,
                      ref.count == t.count, let streamed = hw[value] else { continue }
                let ints = program.layouts[value].map { $0.toModel(streamed) } ?? streamed
                var s = sums[value] ?? Sum()
                // An integer model tensor (a QuantizeLinear output) is compared as integers.
                let integerModel = ref.ints != nil
                for (i, qi) in ints.enumerated() {
                    // Per-channel scales: a channels-last map's channel is the model's axis 1.
                    let positions = program.layouts[value] != nil ? ints.count / quant.scales.count : 1
                    let c = quant.scales.count == 1 ? 0 : i / positions
                    let real = integerModel ? Double(qi) : Double(qi - quant.zeroPoint(c)) * quant.scale(c)
                    let r = integerModel ? Double(ref.ints![i]) : Double(ref.data[i])
                    s.signal += r * r
                    s.noise += (r - real) * (r - real)
                    s.maxErr = max(s.maxErr, abs(r - real))
                    let ideal = integerModel ? r : r / quant.scale(c) + Double(quant.zeroPoint(c))
                    if ideal < Double(t.element.min) - 0.5 || ideal > Double(t.element.max) + 0.5 { s.saturated += 1 }
                    if Int(ideal.rounded(.toNearestOrEven)) == qi && abs(ideal - ideal.rounded()) < 1e-3 || r == real { s.exact += 1 }
                    s.count += 1
                }
                sums[value] = s
            }
            // Top-1 at the output.
            let out = program.layouts[program.output].map { $0.toModel(hw[program.output]!) } ?? hw[program.output]!
            let hwClass = program.outputMeaning.isClassIndex ? out[0] : Driver.argmax(out)
            if let modelOut = env[graph.outputs[0].name] {
                let modelClass = modelOut.ints.map { $0.count == 1 ? $0[0] : Driver.argmax($0) } ?? Driver.argmax(modelOut.data)
                if modelClass == hwClass { agree += 1 }
            }
        }
        let layers = compared.compactMap { node -> FidelityReport.Layer? in
            guard let s = sums[node.output], s.count > 0 else { return nil }
            return FidelityReport.Layer(node: node.name, kind: node.kind, modelValue: program.sourceValues[node.output]!, elements: s.count,
                                        sqnrDb: s.noise > 0 ? 10 * log10(max(s.signal, 1e-300) / s.noise) : nil, maxAbsError: s.maxErr,
                                        saturated: Double(s.saturated) / Double(s.count), exactShare: Double(s.exact) / Double(s.count))
        }
        let classification = program.outputCount > 1 || program.outputMeaning.isClassIndex
        return FidelityReport(vectors: inputs.count, layers: layers, top1Agreement: classification ? Double(agree) / Double(max(inputs.count, 1)) : nil,
                              method: "model: LUTForge's float interpreter (float32 per op; matrix products accumulated exactly, rounded once; QONNX and QDQ quantizers as their reference executors compute them). Design: the bit-exact engine; integers read in real units through each value's scale and zero point.")
    }
}

extension Driver {
    /// Reads a `fidelity.json` written by `verify --model`.
    public static func decodeFidelity(_ data: Data) throws -> FidelityReport {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(FidelityReport.self, from: data)
    }
}
