// `lutforge compile`: model file → HardwareIR → RTL, HLS, simulation workspace
// and golden vectors, written atomically into one design directory.
import EmitHLS
import EmitVerilog
import Estimate
import Foundation
import HardwareIR
import Lowering
import Quantize
import ModelGraph
import ModelImport
@_exported import struct Quantize.SplitMix64
import ReferenceEngine
import Simulate

/// Options of one compile.
public struct CompileOptions: Sendable {
    /// The model file (`.onnx`).
    public var model: String
    /// The design directory to create or replace.
    public var output: String
    /// Layer options given on the command line (they win over the config file's global ones).
    public var flags = LayerOverride()
    /// A YAML config file with global and per-layer options.
    public var config: String?
    /// Calibration inputs (`.npy`); default: the config's, else `X_calib.npy` beside the model, else seeded samples.
    public var calibration: String?
    /// Seed of every k-means run.
    public var seed: UInt64 = 1
    /// Golden vectors written into `vectors/`.
    public var goldenVectors: Int = 16
    /// Device database id; default `arty-a7-35t`.
    public var device: String?
    /// Clock, MHz; default the device's typical clock.
    public var clockMHz: Double?
    /// Bits of the input quantizer LUTForge adds in front of a quantized model with a float input.
    public var inputBits = 8

    /// Creates options for dense kernels with `lanes` lanes.
    public init(model: String, output: String, lanes: Int = 1, calibration: String? = nil) {
        self.model = model
        self.output = output
        self.calibration = calibration
        if lanes != 1 { flags.lanes = lanes }
    }
}

/// What a compile produced.
public struct CompileResult: Sendable {
    /// The lowered program.
    public var program: Program
    /// One-line notes for the user.
    public var notes: [String]
}

/// A user error in the driver's own options.
public struct UsageError: Error, CustomStringConvertible {
    /// The message.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The compiler driver: the steps behind every command.
public enum Driver {
    /// Reads a model by its extension.
    public static func loadModel(_ path: String) throws -> Graph {
        guard path.lowercased().hasSuffix(".onnx") else {
            throw UsageError("\(path): unknown model format (expected an .onnx file)")
        }
        return try ONNXReader.read(path: path)
    }

    /// Float rows of a `.npy` file.
    static func floatRows(_ path: String) throws -> [[Float]] {
        try NPY.read(path: path).rows.map { $0.map { Float($0) } }
    }

    /// Calibration vectors and a sentence saying where they came from.
    static func calibration(_ options: CompileOptions, width: Int?) throws -> ([[Float]], String) {
        if let path = options.calibration {
            let rows = try floatRows(path)
            return (rows, "\(rows.count) vectors from \(URL(fileURLWithPath: path).lastPathComponent)")
        }
        let beside = URL(fileURLWithPath: options.model).deletingLastPathComponent().appendingPathComponent("X_calib.npy").path
        if FileManager.default.fileExists(atPath: beside) {
            let rows = try floatRows(beside)
            return (rows, "\(rows.count) vectors from X_calib.npy beside the model")
        }
        guard let width else { throw UsageError("\(options.model): input width unknown; pass --calibration FILE.npy") }
        var rng = SplitMix64(seed: 0x5eed)
        let rows = (0..<256).map { _ in (0..<width).map { _ in Float(rng.nextUnit() * 2 - 1) } }
        return (rows, "256 seeded uniform vectors in [-1, 1] (no --calibration given)")
    }

    /// Lowers a model to HardwareIR without writing anything; `notes` collects messages for the user.
    public static func lower(_ options: CompileOptions, notes: inout [String]) throws -> Program {
        let config = try options.config.map { try ConfigFile.read(path: $0) } ?? ConfigFile()
        let global = options.flags.applied(to: config.global.applied(to: LayerOptions()))
        guard global.lanes >= 1 else { throw UsageError("--lanes must be at least 1, got \(global.lanes)") }
        guard (1...16).contains(options.inputBits) else { throw UsageError("--input-bits must be in 1...16, got \(options.inputBits)") }
        let graph = try loadModel(options.model)
        var lowering = LoweringOptions(defaults: global, calibration: [], calibrationSource: "", seed: options.seed)
        lowering.perLayer = config.layers.mapValues { $0.applied(to: global) }
        lowering.inputBits = options.inputBits
        var calibrationOptions = options
        calibrationOptions.calibration = options.calibration ?? config.calibration
        let width = graph.inputs.first.flatMap { info -> Int? in
            let dims = info.shape.dropFirst(info.shape.count > 1 ? 1 : 0)
            return dims.contains(nil) ? nil : dims.reduce(1) { $0 * $1! }
        }
        let (vectors, source) = try calibration(calibrationOptions, width: width)
        lowering.calibration = vectors
        lowering.calibrationSource = source
        var state = LoweringState(file: options.model, graph: graph, options: lowering)
        let program = try Pipeline.run(on: &state)
        // Per-layer sections must name a kernel or a model node of one.
        let names = Set(program.nodes.flatMap { [$0.name] + $0.sourceNodes })
        for name in config.layers.keys.sorted() where !names.contains(name) {
            throw UsageError("\(options.config ?? ""): layers.\(name) matches no layer (layers: \(program.nodes.map(\.name).joined(separator: ", ")), or a node name)")
        }
        notes += state.notes + ["calibration: \(source)"]
        return program
    }

    /// Lowers a model, discarding notes.
    public static func lower(_ options: CompileOptions) throws -> Program {
        var notes: [String] = []
        return try lower(options, notes: &notes)
    }

    /// Compiles `options.model` into `options.output`.
    public static func compile(_ options: CompileOptions) throws -> CompileResult {
        var notes: [String] = []
        var program = try lower(options, notes: &notes)
        program.target = try target(device: options.device, clockMHz: options.clockMHz)
        try writeDesign(program, to: options.output, goldenVectors: options.goldenVectors)
        return CompileResult(program: program, notes: notes)
    }

    /// Emits every file of a design directory for `program` and writes it atomically.
    public static func writeDesign(_ program: Program, to output: String, goldenVectors: Int = 16) throws {
        try program.verify()
        var files: FileSet = [:]
        files["model.hwir"] = program.dump()
        let blobs = BlobWriter(fileName: "weights.bin")
        files["model.hwir.json"] = String(decoding: try program.jsonData(blobs: blobs), as: UTF8.self)
        let rtl = try VerilogEmitter.emit(PreparedVerilog(program))
        for (path, text) in rtl { files["rtl/\(path)"] = text }
        for (path, text) in ProjectEmitter.emit(program, rtlFiles: Array(rtl.keys)) { files["project/\(path)"] = text }
        for (path, text) in try HLSEmitter.emit(program) { files["hls/\(path)"] = text }
        for (path, text) in try VerilatorBackend.workspace(program) { files["sim/\(path)"] = text }
        let golden = VectorSource.seeded(program, count: goldenVectors, seed: 1)
        let expected = try golden.map { try IntegerEngine.run(program, $0) }
        files["vectors/inputs.txt"] = VectorFile.encode(golden, width: program.inputCount)
        files["vectors/expected.txt"] = VectorFile.encode(expected, width: program.outputCount)
        try DesignDirectory.write(files, binary: ["weights.bin": blobs.data], to: output)
    }
}

extension Driver {
    /// Refuses a `--clock-mhz` outside (0, 2000].
    static func checkClock(_ clockMHz: Double?) throws {
        if let clockMHz, !(clockMHz > 0 && clockMHz <= 2000) { throw UsageError("--clock-mhz must be in (0, 2000], got \(clockMHz)") }
    }

    /// The device and clock for `--device` / `--clock-mhz`, defaulting to the Arty A7-35T at its clock.
    public static func target(device: String?, clockMHz: Double?) throws -> Target {
        let d = try DeviceDatabase.device(device ?? DeviceDatabase.defaultID)
        try checkClock(clockMHz)
        return Target(device: d.id, part: d.part, vendor: d.vendor, clockMHz: clockMHz ?? d.clockMhz)
    }
}

/// Input vectors for verification.
public enum VectorSource {
    /// All-minimum, all-maximum, alternating min/max (both phases), then seeded uniform vectors over the input type.
    public static func seeded(_ program: Program, count: Int, seed: UInt64) -> [[Int]] {
        let t = program.inputType.element, n = program.inputCount
        var vectors: [[Int]] = [
            [Int](repeating: t.min, count: n), [Int](repeating: t.max, count: n),
            (0..<n).map { $0 % 2 == 0 ? t.max : t.min }, (0..<n).map { $0 % 2 == 0 ? t.min : t.max },
        ]
        var rng = SplitMix64(seed: seed)
        while vectors.count < count {
            vectors.append((0..<n).map { _ in
                t.kind == .bipolar ? (rng.next() & 1 == 0 ? -1 : 1) : t.min + Int(rng.next() % UInt64(t.max - t.min + 1))
            })
        }
        return Array(vectors.prefix(max(count, 0)))
    }
}
