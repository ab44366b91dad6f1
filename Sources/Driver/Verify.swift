// `lutforge verify`: runs the Swift reference engine, Verilator and C-simulation
// on the same vectors, demands identical integers, and writes verify.json.
import Foundation
import HardwareIR
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
    /// Input vectors (`.npy`): integers are used as they are, floats are quantized with the program's input scale.
    public var inputs: String?
    /// Labels (`.npy`) for accuracy.
    public var labels: String?
    /// The float model, for float accuracy beside hardware accuracy.
    public var floatModel: String?
    /// Simulators to run: `verilator`, `csim`.
    public var simulators: [String] = ["verilator", "csim"]
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
        /// Cycles per inference (Verilator only).
        public var cyclesPerInference: Int?
        /// Initiation interval measured with vectors streamed back to back: cycles between the
        /// ends of successive inferences in steady state (Verilator only, two or more vectors, no stalls).
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
    /// The latency the schedule in HardwareIR predicts.
    public var modelCycles: Int
    /// Per simulator, by name.
    public var simulators: [String: Simulator]
    /// True when every simulator matched the reference engine on every integer.
    public var bitExact: Bool
    /// Present when labels were given.
    public var accuracy: Accuracy?
}

extension Driver {
    /// Loads the program of a design directory.
    public static func loadDesign(_ dir: String) throws -> Program {
        let path = "\(dir)/model.hwir.json"
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UsageError("\(dir): not a LUTForge design directory (no model.hwir.json); run lutforge compile first")
        }
        do { return try Program.fromJSON(data) } catch {
            throw UsageError("\(path): unreadable HardwareIR (\(error))")
        }
    }

    /// Integer input vectors from a `.npy` file: integer arrays as stored, float arrays quantized.
    public static func inputVectors(_ path: String, program: Program) throws -> [[Int]] {
        let array = try NPY.read(path: path)
        let rows = array.shape.count == 1 ? [array.values] : array.rows
        guard array.shape.count <= 2, rows.allSatisfy({ $0.count == program.inputCount }) else {
            throw UsageError("\(path): expected vectors of \(program.inputCount) values, got shape \(array.shape)")
        }
        if array.dtype.isInteger {
            return try rows.enumerated().map { i, row in
                try row.map { v in
                    guard program.input.contains(Int(v)) else { throw UsageError("\(path): vector \(i) holds \(Int(v)), outside the input type \(program.input)") }
                    return Int(v)
                }
            }
        }
        return rows.map { row in
            row.map { ActivationQuantizer.quantize($0, scale: program.inputScale, lo: program.input.min, hi: program.input.max) }
        }
    }

    /// Index of the largest value, ties to the lowest index.
    public static func argmax<T: Comparable>(_ v: [T]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }

    /// Runs the verification and writes `verify.json`, `vectors/inputs.txt` and `vectors/expected.txt`.
    public static func verify(_ options: VerifyOptions) throws -> VerifyReport {
        let program = try loadDesign(options.design)
        let inputs: [[Int]]
        let source: String
        if let path = options.inputs {
            inputs = try inputVectors(path, program: program)
            source = URL(fileURLWithPath: path).lastPathComponent
        } else {
            guard options.vectors >= 1 else { throw UsageError("--vectors must be at least 1") }
            inputs = VectorSource.seeded(program, count: options.vectors + 4, seed: options.seed)
            source = "4 extreme + \(options.vectors) seeded random vectors (seed \(options.seed))"
        }
        let expected = try inputs.map { try IntegerEngine.run(program, $0) }
        let vectorDir = "\(options.design)/vectors"
        try? FileManager.default.createDirectory(atPath: vectorDir, withIntermediateDirectories: true)
        let inputPath = "\(vectorDir)/inputs.txt"
        try DesignDirectory.writeFile(Data(VectorFile.encode(inputs, width: program.inputCount).utf8), to: inputPath)
        try DesignDirectory.writeFile(Data(VectorFile.encode(expected, width: program.outputCount).utf8), to: "\(vectorDir)/expected.txt")

        var simulators: [String: VerifyReport.Simulator] = [:]
        for name in options.simulators {
            let backend: any SimulatorBackend
            switch name {
            case "verilator": backend = VerilatorBackend(stallSeed: options.stallSeed)
            case "csim": backend = CSimBackend()
            default: throw UsageError("--simulators: unknown simulator '\(name)' (known: verilator, csim)")
            }
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
            let interval = options.stallSeed == nil ? result.intervalCycles.flatMap { $0.lowerBound == $0.upperBound ? $0.lowerBound : nil } : nil
            simulators[name] = .init(vectors: result.outputs.count, mismatches: mismatches, firstMismatch: first,
                                     cyclesPerInference: cycles, intervalCycles: interval,
                                     wallSeconds: (result.seconds * 1000).rounded() / 1000)
        }

        var accuracy: VerifyReport.Accuracy?
        if let labelPath = options.labels {
            let labels = try NPY.read(path: labelPath).values.map { Int($0) }
            guard labels.count == inputs.count else {
                throw UsageError("\(labelPath): \(labels.count) labels for \(inputs.count) input vectors")
            }
            let hardware = zip(expected, labels).filter { argmax($0.0) == $0.1 }.count
            var float: Double?
            if let model = options.floatModel, let path = options.inputs {
                let graph = try loadModel(model)
                let rows = try floatRows(path)
                let right = try zip(rows, labels).filter { try argmax(FloatInterpreter.run(graph, input: $0.0)) == $0.1 }.count
                float = Double(right) / Double(labels.count)
            }
            accuracy = .init(count: labels.count, hardware: Double(hardware) / Double(labels.count), float: float)
        }
        let report = VerifyReport(inputs: source, vectors: inputs.count, modelCycles: program.latencyCycles,
                                  simulators: simulators, bitExact: simulators.values.allSatisfy { $0.mismatches == 0 },
                                  accuracy: accuracy)
        try DesignDirectory.writeFile(try json(report), to: "\(options.design)/verify.json")
        return report
    }
}
