// The `lutforge` command line: compile, verify, run and demo.
import ArgumentParser
import Driver
import Estimate
import Foundation
import HardwareIR
import Lowering

@main
struct LUTForgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lutforge",
        abstract: "Compile quantized neural networks into FPGA accelerators and prove them bit-exact.",
        subcommands: [Compile.self, Verify.self, Estimate.self, Synth.self, Report.self, Run.self, Demo.self, DiffTest.self, Generate.self, Encode.self])
}

/// Prints a one-line error and exits non-zero; every user-facing failure ends here.
func fail(_ error: Error) -> Never {
    let text = String(describing: error)
    FileHandle.standardError.write(Data("error: \(text)\n".utf8))
    exit(1)
}

func attempt<T>(_ body: () throws -> T) -> T {
    do { return try body() } catch { fail(error) }
}

/// Kernel options shared by `compile` and `demo`; unset ones come from the config file or the defaults.
struct KernelFlags: ParsableArguments {
    @Option(help: "Kernel for every layer: dsp (dense int8 multiply-accumulate) or lut (LUT-based vector quantization).")
    var kernel: String?
    @Option(help: "dsp: output lanes per layer (outputs computed per pass, one multiply-add chain each).") var lanes: Int?
    @Option(help: "dsp: weight sparsity, dense (= 4:4) or N:M (keep N of every M inputs by magnitude).") var sparsity: String?
    @Option(help: "dsp: block sparsity: prune units of this many consecutive weights (N of every M units).") var sparsityUnit: Int?
    @Option(help: "dsp: multiply-adds per chain, a multiple of the weights kept per block (default: one block per cycle).") var chainLength: Int?
    @Option(help: "dsp: multiply-adds per chain group (default: the whole chain).") var groupSize: Int?
    @Option(name: .customLong("v"), help: "lut: elements per position (default 2).") var vectorLength: Int?
    @Option(name: .customLong("ka"), help: "lut: activation centroids per position (default 64).") var activationCentroids: Int?
    @Option(name: .customLong("kw"), help: "lut: weight centroids per position and column group (default 16).") var weightCentroids: Int?
    @Option(name: .customLong("group-columns"), help: "lut: output columns per group, S (default 512).") var groupColumns: Int?
    @Option(help: "lut: signed table entry width (default 8).") var tbits: Int?
    @Option(help: "lut: centroid distance, linf or l2 (default linf).") var distance: String?
    @Option(help: "lut: centroids compared per cycle.") var searchLanes: Int?
    @Option(help: "lut: output columns accumulated per cycle.") var columnLanes: Int?
    @Option(help: "lut: positions accumulated per cycle.") var positionLanes: Int?
    @Option(help: "lut: fraction of weights kept exactly on a sparse chain beside the tables (dense-and-sparse), e.g. 0.02.") var outliers: Double?
    @Option(help: "lut: outliers by magnitude (largest weights) or error (worst reproduced by the codebooks).") var outlierSelect: String?
    @Option(help: "lut: outlier multiply-adds per column lane per cycle.") var outlierLanes: Int?

    func override() throws -> LayerOverride {
        var o = LayerOverride()
        if let kernel {
            guard let kind = KernelKind(rawValue: kernel) else { throw UsageError("--kernel must be dsp or lut, got '\(kernel)'") }
            o.kind = kind
        }
        if let distance {
            guard let d = Distance(rawValue: distance) else { throw UsageError("--distance must be linf or l2, got '\(distance)'") }
            o.distance = d
        }
        if let outliers {
            guard outliers >= 0, outliers < 1 else { throw UsageError("--outliers must be a fraction in [0, 1), got \(outliers)") }
            o.outliers = outliers
        }
        if let outlierSelect {
            guard let v = OutlierSelect(rawValue: outlierSelect) else { throw UsageError("--outlier-select must be magnitude or error, got '\(outlierSelect)'") }
            o.outlierSelect = v
        }
        if let sparsity {
            guard let s = parseSparsity(sparsity) else { throw UsageError("--sparsity must be dense or N:M with 1 ≤ N ≤ M ≤ 256, got '\(sparsity)'") }
            o.sparsity = s
        }
        for (flag, value) in [("--lanes", lanes), ("--v", vectorLength), ("--ka", activationCentroids), ("--kw", weightCentroids),
                              ("--group-columns", groupColumns), ("--search-lanes", searchLanes), ("--column-lanes", columnLanes),
                              ("--position-lanes", positionLanes), ("--chain-length", chainLength), ("--group-size", groupSize), ("--outlier-lanes", outlierLanes),
                              ("--sparsity-unit", sparsityUnit)] {
            if let value, value < 1 { throw UsageError("\(flag) must be at least 1, got \(value)") }
        }
        if let tbits, !(2...16).contains(tbits) { throw UsageError("--tbits must be in 2...16, got \(tbits)") }
        o.lanes = lanes
        o.vectorLength = vectorLength
        o.activationCentroids = activationCentroids
        o.weightCentroids = weightCentroids
        o.groupColumns = groupColumns
        o.tableBits = tbits
        o.searchLanes = searchLanes
        o.columnLanes = columnLanes
        o.positionLanes = positionLanes
        o.chainLength = chainLength
        o.groupSize = groupSize
        o.outlierLanes = outlierLanes
        o.sparsityUnit = sparsityUnit
        return o
    }
}

struct Compile: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compile a model into a design directory (RTL, HLS, simulation workspace).")

    @Argument(help: "The model file (.onnx), or a Hugging Face checkpoint directory (config.json, model.safetensors).") var model: String
    @Option(name: .short, help: "The design directory to create or replace.") var output: String
    @Option(help: "Transformers: longest sequence the KV cache and RoPE tables hold.") var maxSequence: Int = 64
    @Option(help: "Transformers: keep only the first N layers.") var layers: Int?
    @Option(help: "Transformers: temporal (int8 DSP linears on one reused engine, weights off chip) or spatial (an instance per linear, weights on chip).") var mapping: String = "temporal"
    @OptionGroup var kernel: KernelFlags
    @Option(help: "YAML config with global and per-layer options (see docs/config.md).") var config: String?
    @Option(help: "Calibration inputs (.npy); default: the config's, else X_calib.npy beside the model, else seeded samples. Transformers: token id sequences, one per line.") var calibration: String?
    @Option(help: "Seed of the k-means runs.") var seed: UInt64 = 1
    @Option(help: "Target device (see data/devices.yaml), default arty-a7-35t; sets the vendor project's part.") var device: String?
    @Option(help: "Target clock in MHz, default the device's typical clock.") var clockMhz: Double?
    @Option(help: "Quantized models with a float input: bits of the power-of-two input quantizer LUTForge adds.") var inputBits: Int = 8

    func run() {
        if Driver.isCheckpointDirectory(model) { return compileTransformer() }
        var options = CompileOptions(model: model, output: output, calibration: calibration)
        options.flags = attempt { try kernel.override() }
        options.device = device
        options.clockMHz = clockMhz
        options.config = config
        options.seed = seed
        options.inputBits = inputBits
        let result = attempt { try Driver.compile(options) }
        for note in result.notes { print("note: \(note)") }
        print("compiled \(result.program.sourceFile): \(summary(result.program)) -> \(output)")
    }
}

extension Compile {
    /// The transformer options these flags ask for.
    func transformerOptions() throws -> TransformerCompileOptions {
        var o = TransformerCompileOptions(checkpoint: model)
        o.flags = try kernel.override()
        o.config = config
        o.calibration = calibration
        o.seed = seed
        o.maxSequence = maxSequence
        o.layers = layers
        o.mapping = try Driver.parseMapping(mapping)
        return o
    }

    /// A Hugging Face checkpoint directory: the transformer's plan, rtl/, sim/, hls/ and instruction stream.
    func compileTransformer() {
        let compiled = attempt { try Driver.compileTransformer(try transformerOptions()) }
        for note in compiled.notes { print("note: \(note)") }
        for line in Driver.transformerPlan(compiled.design) { print(line) }
        // The arguments without -o, so that verify can recompile exactly this design.
        var source: [String] = []
        var args = Array(CommandLine.arguments.drop { $0 != "compile" }.dropFirst())
        while !args.isEmpty {
            let a = args.removeFirst()
            if a == "-o" || a == "--output" { if !args.isEmpty { args.removeFirst() }; continue }
            if a.hasPrefix("--output=") { continue }
            source.append(a)
        }
        attempt { try Driver.writeTransformerDesign(compiled.design, to: output, source: source) }
        print("compiled \(model) -> \(output) (rtl/, sim/, hls/, plan.txt, instructions.txt)")
    }
}

extension Verify {
    /// A transformer design directory: recompile from its record, check the directory is that output,
    /// then prefill and greedy decode (decoders) or encode (encoders) in the Swift engine and the simulators.
    func verifyTransformer(_ source: [String]) {
        let compile = attempt { () throws -> Compile in
            do { return try Compile.parse(source + ["-o", design]) } catch {
                throw UsageError("\(design)/transformer.json: the recorded compile arguments do not parse: \(Compile.message(for: error))")
            }
        }
        let compiled = attempt { try Driver.compileTransformer(try compile.transformerOptions()) }
        attempt { try Driver.checkTransformerDirectory(compiled.design, design: design) }
        let d = compiled.design
        var rng = SplitMix64(seed: seed)
        let ids = attempt { try promptIds.map { try Driver.parseIDs($0) } } ?? (0..<min(8, d.maxSequence - newTokens)).map { _ in Int(rng.next() % UInt64(d.vocabSize)) }
        let sims = simulators == "none" ? [] : simulators.split(separator: ",").map(String.init).filter { $0 != "icarus" }
        if simulators.contains("icarus") { print("note: icarus skipped: it takes minutes on a whole transformer (`lutforge generate CHECKPOINT --simulators icarus` runs it)") }
        print("\(d.name): \(design) equals a fresh compile of \(compile.model)")
        if d.isDecoder {
            let mem = attempt { try memory.model() }
            let result = attempt { try Driver.generate(compiled, prompt: ids, count: newTokens, simulators: sims, directory: design, memory: mem) }
            print("prompt: \(ids.map(String.init).joined(separator: ","))")
            for line in result.lines { print(line) }
            if !result.agree { Foundation.exit(1) }
        } else {
            let lines = attempt { try Driver.checkEncoding(compiled, sequences: [ids], simulators: sims, directory: design) }
            for line in lines { print(line) }
            if lines.contains(where: { $0.contains("MISMATCH") }) { Foundation.exit(1) }
        }
    }
}

/// `fc0 dsp-chain 64->10, …; 64 u8 in, 10 i16 out; 412 cycles per inference`.
func summary(_ p: Program) -> String {
    let kernels = p.nodes.map { n in "\(n.name) \(n.kind) \(n.inputs.compactMap { p.values[$0]?.count }.map(String.init).joined(separator: "+"))->\(p.values[n.output]?.count ?? 0)" }
    return "\(kernels.joined(separator: ", ")); \(p.inputCount) \(p.inputType.element) in, \(p.outputCount) \(p.outputType.element) out; \(p.latencyCycles) cycles per inference"
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Swift engine, Verilator and C-simulation on the same vectors and demand identical integers.")

    @Argument(help: "The design directory.") var design: String
    @Option(help: "Seeded random vectors, after the all-min, all-max and alternating ones.") var vectors: Int = 64
    @Option(help: "Seed of the random vectors.") var seed: UInt64 = 1
    @Option(help: "Input vectors (.npy): integers as they are, floats quantized with the design's input scale.") var inputs: String?
    @Option(help: "Labels (.npy) for accuracy.") var labels: String?
    @Option(help: "The source model: float accuracy beside hardware accuracy, and the per-layer fidelity report (fidelity.json).") var model: String?
    @Option(help: "Comma-separated simulators (verilator, icarus, csim), or none for the Swift engine alone.") var simulators: String = "verilator,icarus,csim"
    @Option(help: "Drop valid/ready at random with this seed in Verilator (tests back-pressure).") var stall: Int?
    @Option(help: "Transformers: prompt token ids (default: seeded random, 8 tokens).") var promptIds: String?
    @Option(help: "Transformers: greedy tokens to generate.") var newTokens: Int = 8
    @OptionGroup(title: "Transformers: the off-chip memory model") var memory: MemoryFlags

    @OptionGroup(title: "Swift engine") var engine: EngineFlags

    func run() {
        engine.apply()
        if let source = attempt({ try Driver.transformerSource(design) }) { return verifyTransformer(source) }
        var options = VerifyOptions(design: design)
        options.vectors = vectors
        options.seed = seed
        options.inputs = inputs
        options.labels = labels
        options.floatModel = model
        // `none` runs only the Swift engine (for accuracy sweeps).
        options.simulators = simulators == "none" ? [] : simulators.split(separator: ",").map { String($0) }
        options.stallSeed = stall
        let report = attempt { try Driver.verify(options) }
        printReport(report)
        if model != nil, let data = FileManager.default.contents(atPath: "\(design)/fidelity.json"),
           let fidelity = try? Driver.decodeFidelity(data) {
            print("fidelity against \(model!) (-> \(design)/fidelity.json):")
            print(fidelity.table, terminator: "")
        }
        if report.verdict == "mismatch" { Foundation.exit(1) }
    }
}

func printReport(_ report: VerifyReport) {
    for w in report.warnings { print("warning: \(w)") }
    print("vectors: \(report.vectors) (\(report.inputs))")
    for (name, s) in report.simulators.sorted(by: { $0.key < $1.key }) {
        var line = "\(name): \(s.mismatches == 0 ? "bit-exact" : "\(s.mismatches) MISMATCHING vectors") against the Swift engine"
        if let c = s.cyclesPerInference { line += ", \(c) cycles per inference" }
        if let i = s.intervalCycles { line += ", one every \(i) cycles streamed" }
        if let f = s.firstMismatch { line += "; first: \(f)" }
        print(line)
    }
    if let a = report.accuracy {
        if let f = a.float { print(String(format: "float accuracy:    %.2f%% (%d labels)", f * 100, a.count)) }
        print(String(format: "hardware accuracy: %.2f%% (%d labels)", a.hardware * 100, a.count))
    }
    print("model latency: \(report.modelCycles) cycles, interval \(report.modelIntervalCycles) cycles")
    switch report.verdict {
    case "bit-exact": print("verdict: BIT-EXACT (Swift engine, \(report.simulators.keys.sorted().joined(separator: ", ")))")
    case "engine-only": print("verdict: NOT VERIFIED (Swift engine only; no simulator ran)")
    default: print("verdict: MISMATCH")
    }
}

struct Synth: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Synthesise the design's RTL with Yosys (xc7 cell counts, or an iCE40 bitstream) and write synth.json.")

    @Argument(help: "The design directory.") var design: String
    @Option(help: "FPGA family: xc7 (Xilinx 7-series, cell counts) or ice40 (Lattice iCE40).") var family: String = "xc7"
    @Flag(help: "ice40: place and route with nextpnr-ice40 and pack a bitstream with icepack.") var bitstream = false
    @Option(help: "ice40: the device (ice40-up5k or ice40-hx8k; default the design's iCE40 target, else ice40-up5k).") var device: String?
    @Option(help: "ice40: the clock nextpnr times against, MHz.") var clockMhz: Double?

    func run() {
        guard let f = Family(rawValue: family) else { fail(UsageError("--family must be one of \(Family.allCases.map(\.rawValue).joined(separator: ", ")), got '\(family)'")) }
        let r = attempt { try Driver.synthesize(design, family: f, bitstream: bitstream, device: device, clockMHz: clockMhz) }
        for note in r.notes { print("note: \(note)") }
        switch f {
        case .xc7:
            let model = attempt { ResourceModel.total(try Driver.loadDesign(design)) }
            print("yosys synth_xilinx -family xc7: \(r.luts) LUT (model \(model.luts)), \(r.flipFlops) FF, \(r.dsp) DSP48E1 (model \(model.dsp)), \(r.bram18) BRAM18 (model \(model.bram18)) (\(String(format: "%.1f", r.seconds)) s) -> \(design)/synth.json")
        case .ice40:
            print("yosys synth_ice40: \(r.luts) SB_LUT4, \(r.flipFlops) FF, \(r.dsp) SB_MAC16, \(r.ebr4k) SB_RAM40_4K (\(String(format: "%.1f", r.seconds)) s) -> \(design)/synth.json")
            if let b = r.bitstream, let d = r.device {
                let lc = r.utilisation?["ICESTORM_LC"] ?? "?"
                print("nextpnr-ice40 \(d): \(lc) logic cells, Fmax \(r.fmaxMhz.map { String(format: "%.2f MHz", $0) } ?? "unknown"); bitstream \(design)/\(b)")
            }
        }
    }
}

struct Estimate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Model cycles and resources at a device and clock; write estimate.json (with synth.json beside it when present).")

    @Argument(help: "The design directory.") var design: String
    @Option(help: "Device (see data/devices.yaml); default the design's target.") var device: String?
    @Option(help: "Clock in MHz; default the design's (or the device's typical) clock.") var clockMhz: Double?

    func run() {
        let e = attempt { try Driver.estimate(design, device: device, clockMHz: clockMhz) }
        print("\(e.deviceName) (\(e.part)) at \(String(format: "%g", e.clockMhz)) MHz")
        print("latency \(e.latencyCycles) cycles = \(e.latencyUs) µs; interval \(e.intervalCycles) cycles = \(Int(e.throughputPerSecond)) inferences/s")
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        print(pad("layer", 10) + pad("cycles", 9) + pad("busy", 9) + pad("LUT", 8) + pad("LUTRAM", 8) + pad("FF", 8) + pad("DSP", 6) + "BRAM18")
        for l in e.layers {
            print(pad(l.name, 10) + pad("\(l.latencyCycles)", 9) + pad("\(l.occupancyCycles)", 9) + pad("\(l.luts)", 8) + pad("\(l.lutram)", 8) + pad("\(l.flipFlops)", 8) + pad("\(l.dsp)", 6) + "\(l.bram18)")
        }
        let t = e.total
        print(pad("model", 28) + pad("\(t.luts)", 8) + pad("\(t.lutram)", 8) + pad("\(t.flipFlops)", 8) + pad("\(t.dsp)", 6) + "\(t.bram18)")
        if let s = e.synthesis {
            print(pad("yosys xc7", 28) + pad("\(s.luts)", 8) + pad("\(s.lutram)", 8) + pad("\(s.flipFlops)", 8) + pad("\(s.dsp)", 6) + "\(s.bram18)")
        }
        if let u = e.utilisationPercent, let fits = e.fits {
            print("utilisation: " + u.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)%" }.joined(separator: ", ") + (fits ? "" : "  DOES NOT FIT"))
        }
        print("-> \(design)/estimate.json")
    }
}

struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time the Swift engine on this CPU beside the FPGA model; write report.json, report.md and report.svg.")

    @Argument(help: "The design directory.") var design: String
    @Option(help: "Device (see data/devices.yaml); default the design's target.") var device: String?
    @Option(help: "Clock in MHz; default the design's (or the device's typical) clock.") var clockMhz: Double?
    @Option(help: "Timed runs per layer after 3 warm-up runs (the median is reported).") var repeats: Int = 31

    @OptionGroup(title: "Swift engine") var engine: EngineFlags

    func run() {
        engine.apply()
        let r = attempt { try Driver.report(design, device: device, clockMHz: clockMhz, repeats: repeats) }
        print(r.markdown)
        print("-> \(design)/report.json, report.md, report.svg")
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the bit-exact Swift engine on input vectors.")

    @Argument(help: "A model file (compiled on the fly with default options) or a design directory.") var target: String
    @Option(help: "Input vectors (.npy).") var inputs: String
    @Option(name: .short, help: "Output integers (.npy, int64).") var output: String

    @OptionGroup(title: "Swift engine") var engine: EngineFlags

    func run() {
        engine.apply()
        let rows = attempt { try Driver.runEngine(target: target, inputs: inputs) }
        attempt { try Driver.writeOutputs(rows, to: output) }
        print("wrote \(rows.count) output vector(s) to \(output)")
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Compile and verify the bundled digits example end to end.")

    @Option(name: .short, help: "Where to put the design.") var output: String = "lutforge-demo"
    @OptionGroup var kernel: KernelFlags

    func run() {
        let example = Library.root.appendingPathComponent("examples/digits").path
        var options = CompileOptions(model: "\(example)/digits.onnx", output: output)
        options.flags = attempt { try kernel.override() }
        if options.flags.lanes == nil && options.flags.kind != .lut { options.flags.lanes = 4 }
        print("== compile \(options.model)")
        let result = attempt { try Driver.compile(options) }
        for note in result.notes { print("note: \(note)") }
        print("design: \(output) (\(summary(result.program)))")
        print("== verify on the held-out test split")
        var verify = VerifyOptions(design: output)
        verify.inputs = "\(example)/X_test.npy"
        verify.labels = "\(example)/y_test.npy"
        verify.floatModel = options.model
        let report = attempt { try Driver.verify(verify) }
        printReport(report)
        if !report.bitExact { Foundation.exit(1) }
        print("== report: FPGA model vs CPU")
        let perf = attempt { try Driver.report(output) }
        print(perf.summary)
        print("details: \(output)/report.md, \(output)/report.svg")
    }
}

struct DiffTest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "difftest",
        abstract: "Generate random models, compile and verify each with all engines; shrink and keep any mismatch.")

    @Option(help: "Designs to generate.") var designs: Int = 10
    @Option(help: "Index of the first design (to continue a run or split it across machines).") var first: Int = 0
    @Option(help: "Seed of the run (design i gets a seed derived from it).") var seed: UInt64 = 1
    @Option(help: "Random vectors per design, after the all-minimum, all-maximum and two alternating ones.") var vectors: Int = 12
    @Option(help: "Largest number of layers.") var maxDepth: Int = 6
    @Option(help: "Largest layer width.") var maxWidth: Int = 300
    @Option(help: "Comma-separated simulators besides the Swift engine.") var simulators: String = "verilator,icarus,csim"
    @Option(help: "Where designs are built (passing ones are deleted, failing ones kept).") var work: String = ".lutforge-difftest"
    @Option(help: "Where reproductions of mismatches go.") var repro: String = "difftest-repro"
    @Flag(help: "Test hook: corrupt the first bias image after each compile, to see a mismatch caught, shrunk and written out.") var injectFault = false

    @OptionGroup(title: "Swift engine") var engine: EngineFlags

    func run() {
        engine.apply()
        guard designs >= 1, vectors >= 0, (1...6).contains(maxDepth), (1...4096).contains(maxWidth) else {
            fail(UsageError("--designs ≥ 1, --vectors ≥ 0, --max-depth in 1...6 and --max-width in 1...4096 are required"))
        }
        var options = DiffTestOptions(workDirectory: URL(fileURLWithPath: work).standardizedFileURL.path,
                                      reproDirectory: URL(fileURLWithPath: repro).standardizedFileURL.path)
        options.designs = designs
        options.first = max(0, first)
        options.seed = seed
        options.vectors = vectors
        options.maxDepth = maxDepth
        options.maxWidth = maxWidth
        options.simulators = simulators.split(separator: ",").map(String.init)
        options.injectFault = injectFault
        let start = Date()
        let summary = Driver.diffTest(options) { line in
            print(line)
            fflush(stdout)
        }
        // Passing designs were deleted one by one; the work directory goes only if nothing else is in it.
        if (try? FileManager.default.contentsOfDirectory(atPath: options.workDirectory))?.isEmpty == true {
            try? FileManager.default.removeItem(atPath: options.workDirectory)
        }
        print("difftest: \(summary.results.count) designs, \(summary.bitExact) bit-exact, \(summary.rejected) rejected by the compiler, \(summary.mismatches) mismatching, \(summary.failures) failed (\(String(format: "%.0f", Date().timeIntervalSince(start))) s)")
        if summary.mismatches + summary.failures > 0 { Foundation.exit(1) }
    }
}

/// Options of the transformer commands (generate, encode) besides their own.
struct TransformerFlags: ParsableArguments {
    @OptionGroup var kernel: KernelFlags
    @Option(help: "YAML config: global options and layers keyed by role (q, k, v, o, gate, up, down, head, attention, mlp).") var config: String?
    @Option(help: "Calibration token sequences, one per line; default 4 seeded random sequences of 16 tokens.") var calibration: String?
    @Option(help: "Seed of the calibration and k-means.") var seed: UInt64 = 1
    @Option(help: "Keep only the first N layers.") var layers: Int?
    @Option(help: "temporal (int8 DSP linears on one reused engine, weights off chip) or spatial (an instance per linear, weights on chip).") var mapping: String = "temporal"

    func options(checkpoint: String, maxSequence: Int) throws -> TransformerCompileOptions {
        var o = TransformerCompileOptions(checkpoint: checkpoint)
        o.flags = try kernel.override()
        o.config = config
        o.maxSequence = maxSequence
        o.calibration = calibration
        o.seed = seed
        o.layers = layers
        o.mapping = try Driver.parseMapping(mapping)
        return o
    }
}

/// The off-chip memory the simulation harnesses model for the reused engine's weights.
struct EngineFlags: ParsableArguments {
    @Flag(help: "Run the Swift engine's interpreter loops (every table entry read and added one at a time) instead of its packed SIMD loops: the same integers, slower.")
    var checked = false

    func apply() { Driver.checkedEngine = checked }
}

struct MemoryFlags: ParsableArguments {
    @Option(help: "Off-chip memory: cycles from a burst request to its first 64-bit word.") var memLatency: Int = MemoryModel.standard.latency
    @Option(help: "Off-chip memory: cycles between words (bandwidth 8/N bytes per cycle).") var memInterval: Int = MemoryModel.standard.interval

    func model() throws -> MemoryModel { try Driver.memoryModel(latency: memLatency, interval: memInterval) }
}

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a Hugging Face decoder checkpoint and generate greedily: prefill, then decode, on the Swift engine and C-simulation.")

    @Argument(help: "The checkpoint directory (config.json and model.safetensors).") var checkpoint: String
    @Option(help: "Prompt token ids, comma-separated.") var promptIds: String
    @Option(help: "Tokens to generate.") var newTokens: Int = 8
    @OptionGroup var transformer: TransformerFlags
    @Option(help: "Longest sequence the KV cache holds.") var maxSequence: Int = 64
    @Option(help: "Comma-separated engines besides the Swift engine: verilator, icarus (slow), csim, or none.") var simulators: String = "verilator,csim"
    @OptionGroup var memory: MemoryFlags

    @OptionGroup(title: "Swift engine") var engine: EngineFlags

    func run() {
        engine.apply()
        let o = attempt { try transformer.options(checkpoint: checkpoint, maxSequence: maxSequence) }
        let mem = attempt { try memory.model() }
        let prompt = attempt { try Driver.parseIDs(promptIds) }
        guard newTokens >= 1 else { fail(UsageError("--new-tokens must be at least 1, got \(newTokens)")) }
        let compiled = attempt { try Driver.compileTransformer(o) }
        for note in compiled.notes { print("note: \(note)") }
        for line in Driver.transformerPlan(compiled.design) { print(line) }
        let engines = simulators == "none" ? [] : simulators.split(separator: ",").map(String.init)
        let result = attempt { try Driver.generate(compiled, prompt: prompt, count: newTokens, simulators: engines, memory: mem) }
        for line in result.lines { print(line) }
        if !result.agree { Foundation.exit(1) }
    }
}

struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Compile a Hugging Face encoder (BERT) and write mean-pooled sentence embeddings of the float reference and the integer engine.")

    @Argument(help: "The checkpoint directory (config.json and model.safetensors).") var checkpoint: String
    @Option(help: "Token id sequences, one per line.") var ids: String
    @Option(name: .short, help: "Directory for float.npy and integer.npy ([sequences, hidden], float32).") var output: String
    @OptionGroup var transformer: TransformerFlags
    @Option(help: "Longest sequence.") var maxSequence: Int = 128
    @Option(help: "Comma-separated engines to check the integer embeddings with: verilator, csim (each sequence is one run).") var simulators: String?

    @OptionGroup(title: "Swift engine") var engine: EngineFlags

    func run() {
        engine.apply()
        let o = attempt { try transformer.options(checkpoint: checkpoint, maxSequence: maxSequence) }
        let sequences = attempt { try Driver.readTokenLines(ids) }
        let compiled = attempt { try Driver.compileTransformer(o) }
        for line in Driver.transformerPlan(compiled.design) { print(line) }
        let result = attempt { try Driver.encode(compiled, sequences: sequences) }
        if let simulators {
            for line in attempt({ try Driver.checkEncoding(compiled, sequences: sequences, simulators: simulators.split(separator: ",").map(String.init)) }) {
                print(line)
            }
        }
        attempt { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        attempt { try Driver.writeFloatRows(result.float, to: "\(output)/float.npy") }
        attempt { try Driver.writeFloatRows(result.integer, to: "\(output)/integer.npy") }
        for (l, (c, e)) in zip(result.layerCosine, result.layerRelativeError).enumerated() {
            print(String(format: "layer %d: cosine %.6f, max |error| %.4f of max |value|", l, c, e))
        }
        let cos = zip(result.float, result.integer).map { Driver.cosine($0, $1) }
        print(String(format: "%d sequences: mean cosine %.6f (min %.6f) float vs integer embeddings", cos.count, cos.reduce(0, +) / Double(cos.count), cos.min() ?? 0))
    }
}
