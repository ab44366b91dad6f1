// `lutforge verify`: runs the Swift reference engine, Verilator, Icarus and
// C-simulation on the same vectors, demands identical integers, and writes
// verify.json (and, with --model, fidelity.json). The vectors of a run go to
// DIR/verify/, so the golden vectors compile wrote stay in DIR/vectors/.
import Foundation
import HardwareIR
import ModelGraph
import ModelImport
import Quantize
import ReferenceEngine
import Simulate

/// Options of one verification run.
public struct VerifyOptions: Sendable {
    /// The design directory.
    public var design: String
    /// Seeded random vectors (after the extreme ones) when no inputs file is given.
    public var vectors: Int = 64
    /// Seed of the random vectors.
    public var seed: UInt64 = 1
    /// Input vectors (`.npy`): integers are used as they are, floats are quantized with the design's input quantizer.
    public var inputs: String?
    /// Labels (`.npy`) for accuracy.
    public var labels: String?
    /// The source model: float accuracy beside hardware accuracy, and the per-layer fidelity report.
    public var floatModel: String?
    /// Simulators to run: `verilator`, `icarus`, `csim`.
    public var simulators: [String] = Driver.allSimulators
    /// Seed for random back-pressure in Verilator (nil: none, so cycles are exact).
    public var stallSeed: Int?

    /// Creates options.
    public init(design: String) { self.design = design }
}

/// `verify.json`: what each engine produced and whether all agree.
public struct VerifyReport: Codable, Sendable {
    /// One simulator's agreement with the reference engine.
    public struct Simulator: Codable, Sendable {
        /// Vectors compared.
        public var vectors: Int
        /// Vectors with at least one differing integer.
        public var mismatches: Int
        /// The first difference, as "vector V output N: expected E, got G".
        public var firstMismatch: String?
        /// Cycles per inference (cycle-accurate simulators).
        public var cyclesPerInference: Int?
        /// Steady-state initiation interval measured with vectors streamed back to back: the cycles
        /// between the last two inference ends (cycle-accurate simulators, two or more vectors, no stalls).
        public var intervalCycles: Int?
        /// Wall time of build and run, seconds.
        public var wallSeconds: Double
    }

    /// Accuracy against labels.
    public struct Accuracy: Codable, Sendable {
        /// Labelled vectors.
        public var count: Int
        /// Top-1 accuracy of the hardware integers (argmax, ties to the lowest index).
        public var hardware: Double
        /// Top-1 accuracy of the float model, when it was given.
        public var float: Double?
    }

    /// Where the vectors came from.
    public var inputs: String
    /// Number of vectors.
    public var vectors: Int
    /// The latency the HardwareIR schedule predicts.
    public var modelCycles: Int
    /// The steady-state interval the HardwareIR schedule predicts.
    public var modelIntervalCycles: Int
    /// Per simulator, by name.
    public var simulators: [String: Simulator]
    /// True when at least one simulator ran and every simulator matched the reference engine on every integer.
    public var bitExact: Bool
    /// `bit-exact`, `mismatch`, or `engine-only` (no simulator ran: nothing was compared).
    public var verdict: String
    /// Present when labels were given.
    public var accuracy: Accuracy?
    /// Share of float input values beyond the input quantizer's range (clamped), when float inputs were given.
    public var inputSaturation: Double?
    /// Warnings for the user (saturated inputs, say).
    public var warnings: [String]
}

extension Driver {
    /// Every simulator `verify` knows, the default set.
    public static let allSimulators = ["verilator", "icarus", "csim"]

    /// Loads the program of a design directory (and its weight blobs).
    public static func loadDesign(_ dir: String) throws -> Program {
        let path = "\(dir)/model.hwir.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("\(dir): not a LUTForge design directory (no model.hwir.json); run lutforge compile first")
        }
        var blobs: [String: Data] = [:]
        if let w = FileManager.default.contents(atPath: "\(dir)/weights.bin") { blobs["weights.bin"] = w }
        do { return try Program.fromJSON(data, blobs: blobs) } catch {
            throw UsageError("\(path): unreadable HardwareIR (\(error)); recompile the model with this LUTForge")
        }
    }

    /// Integer input vectors from a `.npy` file in the model's element order: integer arrays as stored,
    /// float arrays through the input quantizer; returned in stream order (a feature map channels-last).
    /// The floats stay in model order.
    public static func inputVectors(_ path: String, program: Program) throws -> (vectors: [[Int]], floats: [[Float]]?) {
        let (vectors, floats) = try modelOrderInputs(path, program: program)
        guard let layout = program.layouts[program.input] else { return (vectors, floats) }
        return (vectors.map(layout.toStream), floats)
    }

    static func modelOrderInputs(_ path: String, program: Program) throws -> (vectors: [[Int]], floats: [[Float]]?) {
        let array = try NPY.read(path: path)
        let rows = array.rows
        guard array.shape.count >= 1, rows.allSatisfy({ $0.count == program.inputCount }) else {
            throw UsageError("\(path): expected vectors of \(program.inputCount) values, got shape \(array.shape)")
        }
        let e = program.inputType.element
        if array.dtype.isInteger {
            let ints = try rows.enumerated().map { i, row in
                try row.map { v in
                    guard e.contains(Int(v)) else { throw UsageError("\(path): vector \(i) holds \(Int(v)), outside the input type \(e)") }
                    return Int(v)
                }
            }
            return (ints, nil)
        }
        let floats = rows.map { $0.map { Float($0) } }
        guard let q = program.inputQuantizer else {
            throw UsageError("\(path): the design takes \(e) integers and has no input quantizer; pass an integer array")
        }
        return (floats.map { $0.map(q.quantize) }, floats)
    }

    /// Index of the largest value, ties to the lowest index.
    public static func argmax<T: Comparable>(_ v: [T]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }

    /// The backend named `name`.
    static func backend(_ name: String, stall: Int?) throws -> any SimulatorBackend {
        switch name {
        case "verilator": return VerilatorBackend(stallSeed: stall)
        case "icarus": return IcarusBackend()
        case "csim": return CSimBackend()
        default: throw UsageError("--simulators: unknown simulator '\(name)' (known: \(allSimulators.joined(separator: ", ")), or none)")
        }
    }

    /// Runs the verification and writes `verify.json` and `verify/inputs.txt`, `verify/expected.txt`.
    public static func verify(_ options: VerifyOptions) throws -> VerifyReport {
        let program = try loadDesign(options.design)
        for name in options.simulators { _ = try backend(name, stall: options.stallSeed) }
        let inputs: [[Int]]
        var floats: [[Float]]?
        let source: String
        if let path = options.inputs {
            (inputs, floats) = try inputVectors(path, program: program)
            source = URL(fileURLWithPath: path).lastPathComponent
        } else {
            guard options.vectors >= 1 else { throw UsageError("--vectors must be at least 1") }
            inputs = VectorSource.seeded(program, count: options.vectors + 4, seed: options.seed)
            source = "4 extreme + \(options.vectors) seeded random vectors (seed \(options.seed))"
        }
        guard !inputs.isEmpty else { throw UsageError("\(options.inputs ?? ""): no input vectors") }
        let expected = try inputs.map { try IntegerEngine.run(program, $0) }
        let vectorDir = "\(options.design)/verify"
        do { try FileManager.default.createDirectory(atPath: vectorDir, withIntermediateDirectories: true) } catch {
            throw OutputError(path: vectorDir, reason: (error as NSError).localizedDescription)
        }
        let inputPath = "\(vectorDir)/inputs.txt"
        try DesignDirectory.writeFile(Data(VectorFile.encode(inputs, width: program.inputCount).utf8), to: inputPath)
        try DesignDirectory.writeFile(Data(VectorFile.encode(expected, width: program.outputCount).utf8), to: "\(vectorDir)/expected.txt")

        var simulators: [String: VerifyReport.Simulator] = [:]
        for name in options.simulators {
            let backend = try backend(name, stall: options.stallSeed)
            let absolute = URL(fileURLWithPath: options.design).standardizedFileURL.path
            let result = try backend.simulate(designDir: absolute, inputs: URL(fileURLWithPath: inputPath).standardizedFileURL.path)
            var mismatches = 0
            var first: String?
            for (v, (want, got)) in zip(expected, result.outputs).enumerated() where want != got {
                mismatches += 1
                if first == nil, let n = want.indices.first(where: { $0 >= got.count || want[$0] != got[$0] }) {
                    first = "vector \(v) output \(n): expected \(want[n]), got \(n < got.count ? String(got[n]) : "nothing")"
                }
            }
            if result.outputs.count != expected.count {
                mismatches += abs(result.outputs.count - expected.count)
                first = first ?? "simulator returned \(result.outputs.count) vectors, expected \(expected.count)"
            }
            // Without back-pressure every inference takes the same number of cycles.
            let cycles = result.latencyCycles.flatMap { $0.lowerBound == $0.upperBound ? $0.lowerBound : nil }
            let interval = options.stallSeed == nil || name != "verilator" ? result.steadyIntervalCycles : nil
            simulators[name] = .init(vectors: result.outputs.count, mismatches: mismatches, firstMismatch: first,
                                     cyclesPerInference: options.stallSeed != nil && name == "verilator" ? nil : cycles,
                                     intervalCycles: interval, wallSeconds: (result.seconds * 1000).rounded() / 1000)
        }

        var warnings: [String] = []
        var saturation: Double?
        if let floats, let q = program.inputQuantizer {
            let total = floats.reduce(0) { $0 + $1.count }
            let clamped = floats.reduce(0) { $0 + $1.filter(q.saturates).count }
            saturation = total > 0 ? Double(clamped) / Double(total) : 0
            if clamped > 0 {
                let why = q.source.hasPrefix("calibrated") || q.source.hasPrefix("LUTForge")
                    ? "the input quantizer was calibrated on \(program.calibration) — recompile with --calibration on inputs like these"
                    : "the model's own input quantizer (\(q.source)) clamps them the same way"
                warnings.append(String(format: "%.1f%% of the input values (%d of %d) lie outside the input quantizer's range [%g, %g] and were clamped; %@",
                                       100 * saturation!, clamped, total, Double(q.real(q.lo)), Double(q.real(q.hi)), why))
            }
        }
        var accuracy: VerifyReport.Accuracy?
        if let labelPath = options.labels {
            let labels = try NPY.read(path: labelPath).values.map { Int($0) }
            guard labels.count == inputs.count else {
                throw UsageError("\(labelPath): \(labels.count) labels for \(inputs.count) input vectors")
            }
            let classes = expected.map { program.outputMeaning.isClassIndex ? $0[0] : argmax($0) }
            let hardware = zip(classes, labels).filter { $0.0 == $0.1 }.count
            var float: Double?
            if let model = options.floatModel, let floats {
                let graph = try loadModel(model)
                let right = try zip(floats, labels).filter { try modelClass(graph, $0.0) == $0.1 }.count
                float = Double(right) / Double(labels.count)
            }
            accuracy = .init(count: labels.count, hardware: Double(hardware) / Double(labels.count), float: float)
        }
        let timing = try program.timing()
        let ran = !simulators.isEmpty
        let exact = ran && simulators.values.allSatisfy { $0.mismatches == 0 }
        let report = VerifyReport(inputs: source, vectors: inputs.count, modelCycles: timing.latencyCycles,
                                  modelIntervalCycles: timing.intervalCycles, simulators: simulators, bitExact: exact,
                                  verdict: !ran ? "engine-only" : exact ? "bit-exact" : "mismatch", accuracy: accuracy,
                                  inputSaturation: saturation, warnings: warnings)
        try DesignDirectory.writeFile(try json(report), to: "\(options.design)/verify.json")
        if let model = options.floatModel {
            let fidelity = try Fidelity.measure(program, model: model, inputs: inputs, floats: floats)
            try DesignDirectory.writeFile(try json(fidelity), to: "\(options.design)/fidelity.json")
        }
        return report
    }

    /// The class the source model predicts for `x`: the argmax of its output, or its index output.
    static func modelClass(_ graph: Graph, _ x: [Float]) throws -> Int {
        let env = try FloatInterpreter.evaluate(graph, input: x)
        let out = env[graph.outputs[0].name]!
        if let ints = out.ints, out.count == 1 { return ints[0] }
        return argmax(out.data)
    }
}

extension OutputMeaning {
    /// Whether the output is one class index.
    public var isClassIndex: Bool { if case .classIndex = self { true } else { false } }
}

