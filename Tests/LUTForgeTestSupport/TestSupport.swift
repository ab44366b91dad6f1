// Shared test helpers: random MLP models written as real ONNX files, temporary
// directories, a FileCheck-style matcher, and the paths of built tools.
@_exported import Driver
import Foundation
import HardwareIR
import Lowering
import ModelGraph
import ModelImport

extension Program {
    /// The kernels of kind `K`, in program order.
    public func kernels<K: KernelDefinition>(_: K.Type) -> [K] { nodes.compactMap { $0.kernel(as: K.self) } }
    /// Elements each node reads on its first port, in program order.
    public var nodeInputCounts: [Int] { nodes.map { values[$0.inputs[0]]!.count } }
    /// Elements each node writes, in program order.
    public var nodeOutputCounts: [Int] { nodes.map { values[$0.output]!.count } }
}

/// Lowers `graph` with `options` through the whole pipeline (every pass verified), on `calibration`
/// or on 64 seeded uniform vectors in [-1, 1].
public func lowerGraph(_ graph: Graph, options: LayerOptions = LayerOptions(), perLayer: [String: LayerOptions] = [:],
                       calibration: [[Float]]? = nil, file: String = "test.onnx") throws -> (Program, [String]) {
    let width = graph.inputs[0].shape.compactMap { $0 }.dropFirst(graph.inputs[0].shape.count > 1 ? 1 : 0).reduce(1, *)
    var rng = SplitMix64(seed: 77)
    let vectors = calibration ?? (0..<64).map { _ in (0..<width).map { _ in Float(rng.nextUnit() * 2 - 1) } }
    var o = LoweringOptions(defaults: options, calibration: vectors, calibrationSource: "64 test vectors")
    o.perLayer = perLayer
    var state = LoweringState(file: file, graph: graph, options: o)
    let program = try Pipeline.run(on: &state)
    return (program, state.notes)
}

/// A fresh, uniquely named temporary directory.
public func temporaryDirectory(_ label: String = "lutforge-test") -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString.prefix(8))")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url.path
}

/// Writes `graph` as `name.onnx` in `dir` and returns the path.
@discardableResult
public func writeModel(_ graph: Graph, in dir: String, name: String = "model", storage: ONNXWriter.TensorStorage = .raw) throws -> String {
    let path = "\(dir)/\(name).onnx"
    try ONNXWriter.write(graph, to: path, storage: storage)
    return path
}

/// The repository root.
public let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The bundled digits example directory.
public let digitsExample = "\(repositoryRoot)/examples/digits"

/// Path of the built `lutforge` executable (next to the test bundle).
public var lutforgeExecutable: String {
    let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("lutforge").path
    if FileManager.default.isExecutableFile(atPath: beside) { return beside }
    return "\(repositoryRoot)/.build/debug/lutforge"
}

/// Result of running a command.
public struct CommandResult {
    /// Exit status.
    public var status: Int32
    /// Standard output.
    public var stdout: String
    /// Standard error.
    public var stderr: String
}

/// Runs an executable with arguments and collects its output (through files, so no pipe can fill up).
public func runCommand(_ executable: String, _ arguments: [String], cwd: String? = nil, environment: [String: String] = [:]) throws -> CommandResult {
    let dir = temporaryDirectory("lutforge-cmd")
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let outURL = URL(fileURLWithPath: "\(dir)/out"), errURL = URL(fileURLWithPath: "\(dir)/err")
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    p.standardOutput = try FileHandle(forWritingTo: outURL)
    p.standardError = try FileHandle(forWritingTo: errURL)
    p.standardInput = FileHandle.nullDevice
    try p.run()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus,
                         stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
}

/// Every regular file below `dir` (relative path → bytes), skipping build products.
public func directoryContents(_ dir: String, skipping: Set<String> = ["obj_dir"]) -> [String: Data] {
    var out: [String: Data] = [:]
    guard let e = FileManager.default.enumerator(atPath: dir) else { return out }
    while let rel = e.nextObject() as? String {
        if skipping.contains(where: { rel.hasPrefix($0) || rel.contains("/\($0)") }) { continue }
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: "\(dir)/\(rel)", isDirectory: &isDir), !isDir.boolValue {
            out[rel] = FileManager.default.contents(atPath: "\(dir)/\(rel)")
        }
    }
    return out
}

/// A failed CHECK directive.
public struct CheckFailure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// FileCheck-style matching: `CHECK: text` finds `text` on a later line, `CHECK-NEXT: text`
/// on the very next line, `CHECK-NOT: text` on no line before the next match.
public func fileCheck(_ output: String, _ directives: String) throws {
    let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    var position = 0          // next line to search
    var lastMatch = -1
    var pendingNot: [String] = []
    for raw in directives.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
        func pattern(_ prefix: String) -> String { String(raw.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) }
        if raw.hasPrefix("CHECK-NOT:") {
            pendingNot.append(pattern("CHECK-NOT:"))
        } else if raw.hasPrefix("CHECK-NEXT:") {
            let p = pattern("CHECK-NEXT:")
            let line = lastMatch + 1
            guard line < lines.count, lines[line].contains(p) else {
                throw CheckFailure(description: "CHECK-NEXT: '\(p)' not on line \(line + 1): '\(line < lines.count ? lines[line] : "<end>")'")
            }
            lastMatch = line
            position = line + 1
        } else if raw.hasPrefix("CHECK:") {
            let p = pattern("CHECK:")
            guard let found = (position..<lines.count).first(where: { lines[$0].contains(p) }) else {
                throw CheckFailure(description: "CHECK: '\(p)' not found after line \(position)")
            }
            for n in pendingNot {
                if let bad = (position..<found).first(where: { lines[$0].contains(n) }) {
                    throw CheckFailure(description: "CHECK-NOT: '\(n)' found on line \(bad + 1)")
                }
            }
            pendingNot = []
            lastMatch = found
            position = found + 1
        }
    }
    for n in pendingNot {
        if let bad = (position..<lines.count).first(where: { lines[$0].contains(n) }) {
            throw CheckFailure(description: "CHECK-NOT: '\(n)' found on line \(bad + 1)")
        }
    }
}

/// Compares `text` with the snapshot at `path`; `RECORD_SNAPSHOTS=1` (re)records it. A missing snapshot fails.
public func assertSnapshot(_ text: String, path: String) throws {
    if ProcessInfo.processInfo.environment["RECORD_SNAPSHOTS"] == "1" {
        try FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return
    }
    guard let recorded = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw CheckFailure(description: "\(path): snapshot missing; run with RECORD_SNAPSHOTS=1 to record it")
    }
    guard recorded == text else {
        let a = recorded.split(separator: "\n", omittingEmptySubsequences: false)
        let b = text.split(separator: "\n", omittingEmptySubsequences: false)
        let line = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(a.count, b.count)
        throw CheckFailure(description: "\(path): differs from the snapshot at line \(line + 1):\n  recorded: \(line < a.count ? String(a[line]) : "<end>")\n  actual:   \(line < b.count ? String(b[line]) : "<end>")")
    }
}

/// A hand-built program with every kernel kind besides LUT-linear: a fork of the input into a DSP chain
/// and a residual add, thresholds, a concat of the thresholds with themselves, and an argmax.
public func handBuiltGraphProgram() -> Program {
    let x = TensorType.vector(.int(6), 4, quant: .scale(1))
    let fc = DSPKernel.dense(inputCount: 4, outputCount: 4, lanes: 2, inputType: x, outputQuant: .scale(1), weight: .int(4), bias: .int(2),
                             accumulator: .int(14), multiplier: .uint(3), shift: .uint(2), offset: .int(3), scaled: .int(18),
                             requantized: .int(6), table: nil, weights: [1, -2, 3, 4, 5, 6, -7, 1, 0, 1, 2, 3, -1, -1, -1, -1],
                             biases: [0, 1, -1, 0], requantizers: (0..<4).map { _ in Requantizer(multiplier: 3, shift: 2) })
    let add = ElementwiseKernel(inputTypes: [x, fc.outputType], outputType: .vector(.int(6), 4), channels: 4, multipliers: [1, 2, -1, 3, 2, 1, 1, -2],
                                offsets: [0, 1, -1, 2], shifts: [1, 1, 2, 0], multiplier: .int(3), offset: .int(3), shift: .uint(2), scaled: .int(12),
                                halfEven: true)
    let th = ThresholdKernel(inputType: add.outputType, outputType: .vector(.int(2), 4), channels: 4, thresholdCount: 3, thresholdType: .int(7),
                             thresholds: [-8, 0, 8, -4, 0, 4, 9, 1, -3, -31, 0, 31], descending: [false, false, true, false], base: -2, step: 1)
    let cat = ConcatKernel(inputTypes: [th.outputType, th.outputType])
    let am = ArgMaxKernel(inputType: cat.outputType)
    return Program(name: "graph", sourceFile: "graph.onnx",
                   values: ["in": x, "fc": fc.outputType, "add": add.outputType, "th": th.outputType, "cat": cat.outputType, "am": am.outputType],
                   nodes: [KernelNode(name: "fc", sourceNodes: ["g"], kernel: fc, inputs: ["in"], output: "fc"),
                           KernelNode(name: "add", sourceNodes: ["a"], kernel: add, inputs: ["in", "fc"], output: "add"),
                           KernelNode(name: "th", sourceNodes: ["t"], kernel: th, inputs: ["add"], output: "th"),
                           KernelNode(name: "cat", sourceNodes: ["c"], kernel: cat, inputs: ["th", "th"], output: "cat"),
                           KernelNode(name: "am", sourceNodes: ["m"], kernel: am, inputs: ["cat"], output: "am")],
                   input: "in", output: "am", outputMeaning: .classIndex(node: "m"), calibration: "hand-built")
}

/// The project's Python environment (scripts/setup.sh creates it, with qonnx and onnxruntime).
public let projectPython = "\(repositoryRoot)/.deps/venv/bin/python"

/// Test data written by a script of `scripts/testdata/` into a temporary directory, once per test process.
public enum GeneratedData {
    nonisolated(unsafe) private static var cached: [String: String] = [:]
    private static let lock = NSLock()

    /// The directory `scripts/testdata/<script>` wrote.
    public static func directory(_ script: String) throws -> String {
        try directory(script: "scripts/testdata/\(script)") { [$0] }
    }

    /// The directory the Python script at `script` (relative to the repository) wrote, given
    /// the arguments `arguments(directory)`; run once per test process.
    public static func directory(script: String, arguments: (String) -> [String]) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let d = cached[script] { return d }
        guard FileManager.default.isExecutableFile(atPath: projectPython) else {
            throw CheckFailure(description: "\(projectPython) is missing: run scripts/setup.sh (it installs qonnx and onnxruntime)")
        }
        let dir = temporaryDirectory("lutforge-data")
        let r = try runCommand(projectPython, ["\(repositoryRoot)/\(script)"] + arguments(dir))
        guard r.status == 0 else { throw CheckFailure(description: "\(script) failed: \(r.stderr.suffix(2000))") }
        cached[script] = dir
        return dir
    }
}

/// Writes the first `count` rows of the `.npy` at `source` (same dtype and row shape) to `path`.
public func writeFirstRows(of source: String, count: Int, to path: String) throws {
    let a = try NPY.read(path: source)
    let width = a.values.count / max(a.shape[0], 1)
    try NPY.write(NPYArray(shape: [count] + a.shape.dropFirst(), dtype: a.dtype, values: Array(a.values.prefix(count * width))), to: path)
}
