// `lutforge difftest`: differential testing at scale. Random models (depth,
// widths, kernels and options per layer, activations, export style) are
// compiled and verified with the Swift engine, Verilator and C-simulation on
// extreme and random vectors; a mismatch is shrunk and written out as a
// self-contained reproduction directory.
import Foundation
import HardwareIR
import Lowering
import ModelGraph
import ModelImport
import EmitVerilog
import Quantize

/// One random design: the model and each layer's options, as written to `config.yaml`.
public struct DiffCase: Codable, Sendable, Equatable {
    /// Seed of the weights and of the verification vectors.
    public var seed: UInt64
    /// Layer widths, input first.
    public var widths: [Int]
    /// Activation after each layer: `relu`, `sigmoid` or `none`.
    public var activations: [String]
    /// Whether a final Softmax follows.
    public var softmax: Bool
    /// ONNX export style.
    public var style: MLPStyle
    /// Per layer, the config keys and values (docs/config.md).
    public var layers: [[String: String]]
    /// Layers whose input is added back to their output (a residual join, the input fanning out).
    public var residual: [Int]?

    /// Layer count.
    public var depth: Int { widths.count - 1 }

    /// A random case: depth 1 to `maxDepth`, widths 1 to `maxWidth` (primes and 1 favoured), random kernels and options.
    public static func random(seed: UInt64, maxDepth: Int = 6, maxWidth: Int = 300) -> DiffCase {
        var rng = SplitMix64(seed: seed)
        func pick<T>(_ xs: [T]) -> T { xs[Int(rng.next() % UInt64(xs.count))] }
        func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + Int(rng.next() % UInt64(r.count)) }
        let primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 61, 67, 97, 127, 251, 293].filter { $0 <= maxWidth } + (maxWidth < 2 ? [1] : [])
        func width() -> Int {
            switch int(0...9) {
            case 0: 1
            case 1...3: pick(primes)
            case 4...7: int(1...min(64, maxWidth))
            default: int(1...maxWidth)
            }
        }
        let depth = int(1...max(1, maxDepth))
        var widths = (0...depth).map { _ in width() }
        // About a quarter of the layers get a residual join: their output width equals their input's.
        var residual: [Int] = []
        for i in 0..<depth where int(0...3) == 0 {
            widths[i + 1] = widths[i]
            residual.append(i)
        }
        var layers: [[String: String]] = []
        for _ in 0..<depth {
            var o: [String: String] = [:]
            if int(0...1) == 0 {
                o["kernel"] = "dsp"
                o["lanes"] = "\(int(1...6))"
                switch int(0...3) {
                case 0: o["sparsity"] = "dense"
                case 1: o["sparsity"] = pick(["2:4", "1:4", "3:4"])
                case 2:
                    let m = pick([2, 3, 4, 8])
                    o["sparsity"] = "\(int(1...m)):\(m)"
                default:
                    let m = pick([2, 4])
                    o["sparsity"] = "\(int(1...m)):\(m)"
                    o["sparsity_unit"] = "\(int(1...3))"
                }
            } else {
                o["kernel"] = "lut"
                o["v"] = "\(int(1...4))"
                o["ka"] = "\(pick([1, 2, 3, 4, 8, 16, 32, 64]))"
                o["kw"] = "\(pick([1, 2, 4, 5, 8, 16]))"
                o["s"] = "\(pick([1, 2, 7, 16, 512]))"
                o["tbits"] = "\(int(3...10))"
                o["distance"] = pick(["linf", "l2"])
                o["search_lanes"] = "\(int(1...4))"
                o["column_lanes"] = "\(int(1...4))"
                o["position_lanes"] = "\(int(1...3))"
                if int(0...2) == 0 {
                    o["outliers"] = pick(["0.01", "0.03", "0.1"])
                    o["outlier_select"] = pick(["magnitude", "error"])
                    o["outlier_lanes"] = "\(int(1...2))"
                }
            }
            layers.append(o)
        }
        var activations = (0..<depth).map { i in i == depth - 1 && int(0...1) == 0 ? "none" : pick(["relu", "relu", "sigmoid", "none"]) }
        // A final Softmax follows a linear layer directly (the only place LUTForge supports it).
        let softmax = int(0...2) == 0
        if softmax { activations[depth - 1] = "none" }
        return DiffCase(seed: seed, widths: widths, activations: activations, softmax: softmax,
                        style: pick(MLPStyle.allCases), layers: layers, residual: residual.isEmpty ? nil : residual)
    }

    /// The ONNX node that names layer `i` in the config.
    func nodeName(_ i: Int) -> String { style == .matMulAdd ? "matmul\(i)" : "gemm\(i)" }

    /// The graph.
    public var graph: Graph {
        let acts: [Op?] = activations.map { a in a == "relu" ? .relu : a == "sigmoid" ? .sigmoid : nil }
        return makeMLP(widths: widths, activations: acts, style: style, softmax: softmax, seed: seed, residual: Set(residual ?? []))
    }

    /// `config.yaml` text.
    public var config: String {
        var s = "layers:\n"
        for (i, o) in layers.enumerated() {
            s += "  \(nodeName(i)):\n"
            for (k, v) in o.sorted(by: { $0.key < $1.key }) { s += "    \(k): \(k == "sparsity" || k == "distance" || k == "kernel" || k == "outlier_select" ? "\"\(v)\"" : v)\n" }
        }
        return s
    }

    /// One line describing the case.
    public var summary: String {
        let opts = layers.map { o in
            (o["kernel"] == "dsp" ? "dsp lanes \(o["lanes"]!) \(o["sparsity"]!)" + (o["sparsity_unit"].map { " unit \($0)" } ?? "")
                : "lut v\(o["v"]!) ka\(o["ka"]!) kw\(o["kw"]!) s\(o["s"]!) t\(o["tbits"]!) \(o["distance"]!) lanes \(o["search_lanes"]!)/\(o["column_lanes"]!)/\(o["position_lanes"]!)"
                    + (o["outliers"].map { " out \($0) \(o["outlier_select"]!)" } ?? ""))
        }
        let skips = (residual ?? []).isEmpty ? "" : " residual \((residual ?? []).map(String.init).joined(separator: ","))"
        return "\(widths.map(String.init).joined(separator: "-")) \(style.rawValue)\(softmax ? " softmax" : "")\(skips): " + zip(opts, activations).map { "\($0) \($1)" }.joined(separator: " | ")
    }
}

/// Options of a differential run.
public struct DiffTestOptions: Sendable {
    /// Designs to generate.
    public var designs = 10
    /// Index of the first design, to continue or split a long run.
    public var first = 0
    /// Seed of the run: design `i` uses a seed derived from it.
    public var seed: UInt64 = 1
    /// Random vectors per design, after the all-minimum, all-maximum and two alternating ones.
    public var vectors = 12
    /// Largest depth and width.
    public var maxDepth = 6
    public var maxWidth = 300
    /// Simulators besides the Swift engine.
    public var simulators = Driver.allSimulators
    /// Where designs are built (each is deleted after it passes).
    public var workDirectory: String
    /// Where reproductions of mismatches are written.
    public var reproDirectory: String
    /// Shrink attempts per mismatch.
    public var shrinkSteps = 16
    /// Test hook: corrupt the last linear kernel's first requantizer word after every compile, so the simulators disagree.
    public var injectFault = false

    /// Options writing under `workDirectory` and `reproDirectory`.
    public init(workDirectory: String, reproDirectory: String) {
        self.workDirectory = workDirectory
        self.reproDirectory = reproDirectory
    }
}

/// What happened to one design.
public enum DiffOutcome: Sendable, Equatable {
    /// All engines agreed on every vector.
    case bitExact(vectors: Int)
    /// The compiler refused the options with a one-line reason (not a failure).
    case rejected(String)
    /// Engines disagreed; the shrunk reproduction is in the directory.
    case mismatch(repro: String, detail: String)
    /// Something failed that should not (a tool error, an engine overflow, a crash-like error).
    case failure(String)
}

/// Summary of a differential run.
public struct DiffTestSummary: Sendable {
    /// Per design, its case and outcome.
    public var results: [(DiffCase, DiffOutcome)] = []
    /// Designs whose engines all agreed.
    public var bitExact: Int { results.filter { if case .bitExact = $0.1 { true } else { false } }.count }
    /// Designs refused by the compiler.
    public var rejected: Int { results.filter { if case .rejected = $0.1 { true } else { false } }.count }
    /// Designs with a mismatch.
    public var mismatches: Int { results.filter { if case .mismatch = $0.1 { true } else { false } }.count }
    /// Designs that failed otherwise.
    public var failures: Int { results.filter { if case .failure = $0.1 { true } else { false } }.count }
}

extension Driver {
    /// Seed of design `i` of a run seeded `seed`.
    public static func diffSeed(_ seed: UInt64, _ i: Int) -> UInt64 {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i))
        return rng.next()
    }

    /// Builds and verifies one case in `dir`: `nil` when all engines agree, else the first mismatch.
    static func check(_ c: DiffCase, in dir: String, options: DiffTestOptions) throws -> (VerifyReport, String?) {
        let fm = FileManager.default
        try? fm.removeItem(atPath: dir)
        try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try ONNXWriter.write(c.graph, to: "\(dir)/model.onnx", storage: .raw)
        try c.config.write(toFile: "\(dir)/config.yaml", atomically: true, encoding: .utf8)
        var compile = CompileOptions(model: "\(dir)/model.onnx", output: "\(dir)/design")
        compile.config = "\(dir)/config.yaml"
        compile.goldenVectors = 4
        let program = try Driver.compile(compile).program
        if options.injectFault { try corruptRequantizerImage(program, rtl: "\(dir)/design/rtl") }
        var verify = VerifyOptions(design: "\(dir)/design")
        verify.vectors = options.vectors
        verify.seed = c.seed
        verify.simulators = options.simulators
        let report = try Driver.verify(verify)
        guard !report.bitExact else { return (report, nil) }
        let first = report.simulators.sorted { $0.key < $1.key }.compactMap { name, s in s.firstMismatch.map { "\(name): \($0)" } }.first
        return (report, first ?? "mismatch")
    }

    /// Flips the sign bit of the first output's requantizer offset `C` (the top field of lane 0 in
    /// the `q` image of the last linear kernel), which the outputs show.
    static func corruptRequantizerImage(_ program: Program, rtl: String) throws {
        guard let at = program.nodes.lastIndex(where: { $0.memories.contains { $0.suffix == "q" } }) else { return }
        let node = program.nodes[at]
        let image = node.memories.first { $0.suffix == "q" }!
        let name = PreparedVerilog(program).instanceNames[at]
        let path = "\(rtl)/\(name)_q.mem"
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        var digits = Array(lines[0])
        // Lane 0 (the low field) always holds a real output; its sign bit is the field's top bit.
        let lanes = node.kernel(as: DSPKernel.self)?.lanes ?? node.kernel(as: LUTKernel.self)?.columnLanes ?? 1
        let bit = image.width / lanes - 1, index = digits.count - 1 - bit / 4
        guard let v = Int(String(digits[index]), radix: 16) else { return }
        digits[index] = Character(String(v ^ (1 << (bit % 4)), radix: 16))
        lines[0] = String(digits)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Smaller variants of a case: fewer layers, narrower layers, fewer lanes.
    static func shrinkCandidates(_ c: DiffCase) -> [DiffCase] {
        var out: [DiffCase] = []
        if c.residual != nil {
            var plain = c
            plain.residual = nil
            out.append(plain)
        }
        if c.depth > 1 && c.residual == nil {
            var last = c
            last.widths.removeLast()
            last.layers.removeLast()
            last.activations.removeLast()
            out.append(last)
            var first = c
            first.widths.removeFirst()
            first.layers.removeFirst()
            first.activations.removeFirst()
            out.append(first)
        }
        for i in c.widths.indices where c.widths[i] > 1 && c.residual == nil {
            var narrower = c
            narrower.widths[i] = max(1, c.widths[i] / 2)
            out.append(narrower)
        }
        for i in c.layers.indices {
            for key in ["lanes", "column_lanes", "search_lanes", "position_lanes", "outlier_lanes"] where (c.layers[i][key].flatMap { Int($0) } ?? 1) > 1 {
                var fewer = c
                fewer.layers[i][key] = "1"
                out.append(fewer)
            }
        }
        if c.softmax { var s = c; s.softmax = false; out.append(s) }
        return out
    }

    /// Runs `options.designs` random designs; `progress` gets one line per design.
    public static func diffTest(_ options: DiffTestOptions, progress: (String) -> Void = { _ in }) -> DiffTestSummary {
        var summary = DiffTestSummary()
        for i in options.first..<(options.first + options.designs) {
            let c = DiffCase.random(seed: diffSeed(options.seed, i), maxDepth: options.maxDepth, maxWidth: options.maxWidth)
            let dir = "\(options.workDirectory)/design-\(i)"
            let start = Date()
            let outcome: DiffOutcome
            do {
                let (report, mismatch) = try check(c, in: dir, options: options)
                if let mismatch {
                    outcome = .mismatch(repro: shrink(c, detail: mismatch, index: i, options: options, progress: progress), detail: mismatch)
                } else {
                    outcome = .bitExact(vectors: report.vectors)
                    try? FileManager.default.removeItem(atPath: dir)
                }
            } catch let e as UsageError {
                outcome = .rejected(e.message)
            } catch let e as LoweringError {
                outcome = .rejected(String(describing: e))
            } catch {
                outcome = .failure(String(describing: error))
            }
            summary.results.append((c, outcome))
            let seconds = String(format: "%.1f s", Date().timeIntervalSince(start))
            let verdict = switch outcome {
            case let .bitExact(n): "bit-exact on \(n) vectors"
            case let .rejected(why): "rejected: \(why)"
            case let .mismatch(repro, detail): "MISMATCH (\(detail)); reproduction in \(repro)"
            case let .failure(why): "FAILURE: \(why)"
            }
            progress("design \(i + 1)/\(options.first + options.designs) seed \(String(c.seed, radix: 16)) [\(c.summary)]: \(verdict) (\(seconds))")
        }
        return summary
    }

    /// Shrinks a mismatching case greedily and writes the smallest one found as a reproduction directory.
    static func shrink(_ original: DiffCase, detail: String, index: Int, options: DiffTestOptions, progress: (String) -> Void) -> String {
        var best = original, bestDetail = detail, steps = 0
        let scratch = "\(options.workDirectory)/shrink-\(index)"
        var improved = true
        while improved && steps < options.shrinkSteps {
            improved = false
            for candidate in shrinkCandidates(best) where steps < options.shrinkSteps {
                steps += 1
                if let (_, m) = try? check(candidate, in: scratch, options: options), let m {
                    best = candidate
                    bestDetail = m
                    improved = true
                    progress("  shrunk to [\(best.summary)]")
                    break
                }
            }
        }
        try? FileManager.default.removeItem(atPath: scratch)
        let repro = "\(options.reproDirectory)/repro-\(String(original.seed, radix: 16))"
        do {
            _ = try? check(best, in: repro, options: options)
            try json(best).write(to: URL(fileURLWithPath: "\(repro)/case.json"))
            let script = """
            #!/bin/sh
            # Reproduces a LUTForge differential-test mismatch: \(bestDetail)
            # Case: \(best.summary)
            set -e
            cd "$(dirname "$0")"
            lutforge compile model.onnx -o design --config config.yaml
            \(options.injectFault ? "# (found with --inject-fault: the first requantizer image was corrupted after compiling)\n" : "")lutforge verify design --vectors \(options.vectors) --seed \(best.seed) --simulators \(options.simulators.joined(separator: ","))

            """
            try script.write(toFile: "\(repro)/repro.sh", atomically: true, encoding: .utf8)
        } catch {
            progress("  could not write the reproduction: \(error)")
        }
        return repro
    }
}
