// Transformer checkpoints in the driver: compile a Hugging Face directory to a TransformerDesign
// (kernel per linear role from flags and the YAML config), print the plan, generate with the
// Swift engine and C-simulation, and encode sentences (encoders).
import Foundation
import EmitHLS
import EmitVerilog
import Estimate
import HardwareIR
import Lowering
import ModelImport
import ReferenceEngine

/// What `lutforge generate` / `encode` / `compile` of a checkpoint directory were asked for.
public struct TransformerCompileOptions: Sendable {
    public var checkpoint: String
    /// Kernel flags for every linear.
    public var flags = LayerOverride()
    /// YAML config: global options, and `layers:` keyed by role (`q` … `head`, `attention`, `mlp`).
    public var config: String?
    public var maxSequence = 64
    /// Calibration token sequences, one per line (ids separated by commas or spaces).
    public var calibration: String?
    public var seed: UInt64 = 1
    /// Keep only the first layers (a slice of a large model for simulation).
    public var layers: Int?
    /// Linears on the reused off-chip-fed engine (temporal) or an instance each (spatial).
    public var mapping: TransformerMapping = .temporal

    public init(checkpoint: String) { self.checkpoint = checkpoint }
}

/// A compiled transformer with the float model it came from.
public struct CompiledTransformer: Sendable {
    public var design: TransformerDesign
    public var model: TransformerFloat
    public var notes: [String]
}

extension Driver {
    /// Whether `path` is a Hugging Face checkpoint directory (it holds config.json).
    public static func isCheckpointDirectory(_ path: String) -> Bool {
        var dir: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &dir) && dir.boolValue
            && FileManager.default.fileExists(atPath: "\(path)/config.json")
    }

    /// Reads token sequences, one per line.
    public static func readTokenLines(_ path: String) throws -> [[Int]] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw UsageError("\(path): cannot read") }
        return try text.split(separator: "\n").enumerated().compactMap { i, line in
            let fields = line.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" })
            if fields.isEmpty { return nil }
            return try fields.map { f in
                guard let v = Int(f) else { throw UsageError("\(path): line \(i + 1): '\(f)' is not a token id") }
                return v
            }
        }
    }

    /// Compiles a checkpoint directory.
    public static func compileTransformer(_ o: TransformerCompileOptions) throws -> CompiledTransformer {
        let checkpoint = try HuggingFaceCheckpoint(directory: o.checkpoint)
        var model = try TransformerFloat(checkpoint)
        if let layers = o.layers {
            guard layers >= 1 else { throw UsageError("--layers must be at least 1, got \(layers)") }
            model = model.truncated(layers: layers)
        }
        var options = TransformerOptions()
        var base = LayerOptions()
        if let config = o.config {
            let file = try ConfigFile.read(path: config)
            base = file.global.applied(to: base)
            for (role, override) in file.layers {
                guard TransformerOptions.roles.contains(role) || TransformerOptions.groups[role] != nil else {
                    let known = (TransformerOptions.roles + TransformerOptions.groups.keys.sorted()).joined(separator: ", ")
                    throw UsageError("\(config): layers.\(role): not a transformer linear (known: \(known))")
                }
                options.perRole[role] = o.flags.applied(to: override.applied(to: base))
            }
        }
        options.defaults = o.flags.applied(to: base)
        options.maxSequence = o.maxSequence
        options.seed = o.seed
        options.mapping = o.mapping
        if let c = o.calibration { options.calibration = try readTokenLines(c) }
        let (design, notes) = try TransformerLowering.lower(model, file: "\(o.checkpoint)/config.json", options: options)
        return CompiledTransformer(design: design, model: model, notes: notes)
    }

    /// The compile plan: each linear's kernel, the instruction stream, memory on and off chip per layer.
    public static func transformerPlan(_ d: TransformerDesign) -> [String] {
        func kib(_ bytes: Int) -> String { String(format: "%.1f KiB", Double(bytes) / 1024) }
        let engine = d.dspEngine
        var lines = ["\(d.name): \(d.isDecoder ? "decoder" : "encoder"), \(d.layers.count) layer(s), hidden \(d.hiddenSize), \(d.heads) heads (\(d.kvHeads) kv) of \(d.headDim), sequence up to \(d.maxSequence); \(d.mapping.rawValue) mapping"]
        let lutEngine = d.lutEngine
        func onEngine(_ name: String) -> Bool { engine?.region(name) != nil || lutEngine?.region(name) != nil }
        func kind(_ name: String, _ lin: TransformerLinear) -> String { onEngine(name) ? "\(lin.engine)-engine" : lin.engine }
        for (l, layer) in d.layers.enumerated() {
            let linears = layer.linears.map { "\($0.role) \(kind("L\(l)_\($0.role)", $0.linear)) \($0.linear.inputCount)->\($0.linear.outputCount)" }
            let rom = layer.linears.filter { !onEngine("L\(l)_\($0.role)") }.reduce(0) { $0 + $1.linear.parameterBytes }
            let onChip = d.onChipBytes(layer: l)
            lines.append("  L\(l): \(linears.joined(separator: ", ")); off chip \(kib(d.offChipBytes(layer: l))) (the engines' words); on chip \(kib(onChip + rom)) (KV cache and exp table \(kib(onChip))"
                         + (rom > 0 ? ", weight and table ROM of own-instance linears \(kib(rom))" : "") + ")")
        }
        if let head = d.head {
            lines.append("  head: \(kind("head", head)) \(head.inputCount)->\(head.outputCount); " + (onEngine("head") ? "off chip \(kib(d.offChipBytes(layer: -1)))" : "on-chip ROM \(kib(head.parameterBytes))"))
        }
        let all = d.namedLinears
        let onDSP = all.filter { engine?.region($0.name) != nil }.count, onLUT = all.filter { lutEngine?.region($0.name) != nil }.count
        let lut = all.filter { $0.linear.engine == "lut" }.count
        let program = d.instructions
        lines.append("  \(lut) of \(all.count) linears as LUT tables, \(all.count - lut) as DSP chains; \(onDSP) on the reused DSP engine, \(onLUT) on the reused LUT engine, \(all.count - onDSP - onLUT) with instances of their own; \(program.count) instructions per run (\(program.filter { if case .linear = $0 { true } else { false } }.count) engine rounds)")
        if d.offChipWords > 0 {
            let tables = (engine?.table.count ?? 0) + (lutEngine?.table.count ?? 0)
            lines.append("  off-chip image: \(d.offChipWords) words of 64 bits (\(kib(8 * d.offChipWords))), \(Driver.offChipFile); activation tables in the engines, on chip: \(tables) entries")
        }
        lines.append("  KV cache: \(kib(d.cacheBytes)) (\(d.cacheType) k and v, [layer][kv head][position][head dim])")
        let prompt = min(8, d.maxSequence - 1)
        if let prefill = try? TransformerCycleModel.runCycles(d, tokens: prompt, start: 0),
           let decode = try? TransformerCycleModel.runCycles(d, tokens: 1, start: prompt) {
            lines.append("  RTL engine cycles\(d.offChipWords == 0 ? "" : " (off-chip memory: \(MemoryModel.standard))"): prefill of \(prompt) tokens \(prefill)" + (d.isDecoder ? ", a decode step after them \(decode)" : ""))
        }
        return lines
    }

    /// Parses `--mapping`.
    public static func parseMapping(_ text: String) throws -> TransformerMapping {
        guard let m = TransformerMapping(rawValue: text) else {
            throw UsageError("--mapping must be temporal or spatial, got '\(text)'")
        }
        return m
    }

    /// The off-chip memory model `--mem-latency` / `--mem-interval` ask for.
    public static func memoryModel(latency: Int, interval: Int) throws -> MemoryModel {
        guard latency >= 1, interval >= 1 else {
            throw UsageError("--mem-latency and --mem-interval must be at least 1, got \(latency) and \(interval)")
        }
        return MemoryModel(latency: latency, interval: interval)
    }

    /// Parses `1,2,3`.
    public static func parseIDs(_ text: String) throws -> [Int] {
        let ids = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !ids.isEmpty, ids.allSatisfy({ $0 != nil }) else { throw UsageError("--prompt-ids must be comma-separated token ids, got '\(text)'") }
        return ids.map { $0! }
    }
}

/// What `generate` found.
public struct GenerationResult: Sendable {
    /// Tokens per engine (`swift`, `csim`, and `float` for the float reference).
    public var tokens: [String: [Int]]
    /// Logits per engine and step.
    public var logits: [String: [[Int]]]
    /// The integer engines agree on every logit of every step.
    public var agree: Bool
    public var lines: [String]
}

extension Driver {
    /// Greedy generation on the Swift engine and `simulators`, compared step by step, with the float reference's tokens beside.
    /// `directory`: a design directory whose rtl/, sim/ and hls/ are simulated (default: a temporary one written from `c`).
    /// `memory`: the off-chip memory the harnesses model (and the cycle model counts).
    public static func generate(_ c: CompiledTransformer, prompt: [Int], count: Int, simulators: [String], directory: String? = nil,
                                memory: MemoryModel = .standard) throws -> GenerationResult {
        let engine = TransformerEngine(c.design)
        let swift = try engine.generate(prompt: prompt, count: count)
        var tokens = ["swift": swift.tokens], logits = ["swift": swift.logits]
        var lines = ["swift engine: \(swift.tokens.map(String.init).joined(separator: ","))"]
        var agree = true
        for sim in simulators {
            let run: (logits: [[Int]], tokens: [Int])
            switch sim {
            case "csim": run = try TransformerCSim.generate(c.design, prompt: prompt, count: count, directory: directory)
            case "icarus": run = try TransformerIcarus.generate(c.design, prompt: prompt, count: count, directory: directory, memory: memory)
            case "verilator":
                let v = try TransformerVerilator.generate(c.design, prompt: prompt, count: count, directory: directory, memory: memory)
                run = (v.logits, v.tokens)
                let decode = v.cycles.dropFirst()
                let model = try TransformerCycleModel.generationCycles(c.design, prompt: prompt.count, count: count, memory: memory)
                let equal = model == v.cycles
                agree = agree && equal
                if c.design.offChipWords > 0 { lines.append("off-chip memory: \(memory)") }
                lines.append("verilator cycles: prefill of \(prompt.count) tokens \(v.cycles.first ?? 0), decode steps \(decode.min() ?? 0)...\(decode.max() ?? 0); "
                             + (equal ? "the cycle model agrees on every run" : "the cycle model says \(model.map(String.init).joined(separator: ",")) (MISMATCH)"))
            default: throw UsageError("--simulators: '\(sim)' cannot run a transformer (verilator, icarus, csim, or none)")
            }
            tokens[sim] = run.tokens
            logits[sim] = run.logits
            let steps = zip(run.logits, swift.logits).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            let same = steps.isEmpty && run.logits.count == swift.logits.count && run.tokens == swift.tokens
            agree = agree && same
            lines.append("\(sim): \(run.tokens.map(String.init).joined(separator: ","))  " +
                         (same ? "BIT-EXACT: logits of all \(count) steps identical" : "MISMATCH at step(s) \(steps.map(String.init).joined(separator: ","))"))
        }
        let float = c.model.greedy(prompt, count: count)
        tokens["float"] = float
        let matching = zip(float, swift.tokens).prefix { $0 == $1 }.count
        lines.append("float reference: \(float.map(String.init).joined(separator: ","))  (integer tokens equal for the first \(matching) of \(count))")
        return GenerationResult(tokens: tokens, logits: logits, agree: agree, lines: lines)
    }
}

/// What `encode` computed: mean-pooled sentence embeddings of the float reference and the
/// integer engine, and per layer the cosine of their outputs over every token.
public struct EncodingResult: Sendable {
    public var float: [[Double]]
    public var integer: [[Double]]
    /// Per layer, cosine similarity of the layer outputs (all tokens of all sequences together).
    public var layerCosine: [Double]
    /// Per layer, max |Δ| over max |float|.
    public var layerRelativeError: [Double]
}

extension Driver {
    /// Encodes `sequences` with the float reference and the integer engine (encoders), in parallel over sequences.
    public static func encode(_ c: CompiledTransformer, sequences: [[Int]]) throws -> EncodingResult {
        guard !c.design.isDecoder else { throw UsageError("\(c.design.name) is a decoder: encode needs an encoder (BERT)") }
        let engine = TransformerEngine(c.design)
        let layers = c.design.layers.count
        struct One { var float: [Double] = [], integer: [Double] = [], fl: [[Double]] = [], il: [[Double]] = [], error: Error? }
        var results = [One](repeating: One(), count: sequences.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: sequences.count) { i in
            var one = One(fl: Array(repeating: [], count: layers), il: Array(repeating: [], count: layers))
            do {
                let ids = sequences[i]
                var floatLayers = [[Double]](repeating: [], count: layers)
                let hidden = c.model.encoderHidden(ids) { site, rows in
                    if site.hasSuffix(".ln2"), let l = Int(site.dropLast(4)) { floatLayers[l] = rows.flatMap { $0.map(Double.init) } }
                }
                var intLayers = [[Double]](repeating: [], count: layers)
                var session = engine.session()
                let out = try engine.run(ids, session: &session) { l, rows, scale in intLayers[l] = rows.flatMap { $0.map { Double($0) * scale } } }
                let h = c.design.hiddenSize
                one.float = (0..<h).map { j in hidden.map { Double($0[j]) }.reduce(0, +) / Double(ids.count) }
                one.integer = (0..<h).map { j in out.map { Double($0[j]) * c.design.outputScale }.reduce(0, +) / Double(ids.count) }
                (one.fl, one.il) = (floatLayers, intLayers)
            } catch { one.error = error }
            lock.lock()
            results[i] = one
            lock.unlock()
        }
        if let e = results.compactMap(\.error).first { throw e }
        var cosines: [Double] = [], errors: [Double] = []
        for l in 0..<layers {
            let f = results.flatMap { $0.fl[l] }, g = results.flatMap { $0.il[l] }
            cosines.append(cosine(f, g))
            errors.append((zip(f, g).map { abs($0 - $1) }.max() ?? 0) / Swift.max(f.map(abs).max() ?? 1, 1e-12))
        }
        return EncodingResult(float: results.map(\.float), integer: results.map(\.integer), layerCosine: cosines, layerRelativeError: errors)
    }

    /// Cosine similarity.
    public static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let dot = zip(a, b).map(*).reduce(0, +)
        let na = a.map { $0 * $0 }.reduce(0, +).squareRoot(), nb = b.map { $0 * $0 }.reduce(0, +).squareRoot()
        return na > 0 && nb > 0 ? dot / (na * nb) : 0
    }

    /// Writes rows as float32 `.npy`.
    public static func writeFloatRows(_ rows: [[Double]], to path: String) throws {
        let array = NPYArray(shape: [rows.count, rows.first?.count ?? 0], dtype: .float32, values: rows.flatMap { $0 })
        try DesignDirectory.writeFile(NPY.encode(array), to: path)
    }
}

/// 64-bit words as the harnesses read them.
enum RTLHex {
    static func word(_ w: UInt64) -> String {
        let s = String(w, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }
}

extension Driver {
    /// The off-chip memory image of a temporal transformer design (one 64-bit word per line), relative to the design directory.
    public static let offChipFile = "offchip.mem"

    /// The files of a transformer design directory: `hls/` (C++ and its Makefile), `plan.txt`, `instructions.txt`.
    public static func transformerFiles(_ d: TransformerDesign) throws -> FileSet {
        var files: FileSet = [:]
        for (path, text) in try HLSEmitter.emitTransformer(d) { files["hls/\(path)"] = text }
        for (path, text) in try VerilogEmitter.emitTransformer(d) { files["rtl/\(path)"] = text }
        files["sim/transformer_verilator.cpp"] = try Library.text("sim/transformer_verilator.cpp")
        files["sim/transformer_icarus_tb.v"] = try Library.text("sim/transformer_icarus_tb.v")
        files["sim/Makefile"] = """
        # Verilator simulation of ../rtl (the transformer engine). Table images are read from MEM_DIR.
        #   make && obj_dir/Vlutforge_transformer --ids 1,2,3 --new-tokens 8
        MEM_DIR ?= $(abspath ../rtl)/
        VERILATOR ?= verilator
        obj_dir/Vlutforge_transformer: ../rtl/files.f ../rtl/*.v transformer_verilator.cpp
        \t$(VERILATOR) --cc --exe --build -O3 -j 2 --top-module lutforge_transformer -Mdir obj_dir \\
        \t  -GMEM_DIR='"$(MEM_DIR)"' -F ../rtl/files.f transformer_verilator.cpp

        """
        let image = d.offChipImage()
        if !image.isEmpty { files[offChipFile] = image.map { RTLHex.word($0) }.joined(separator: "\n") + "\n" }
        files["plan.txt"] = transformerPlan(d).joined(separator: "\n") + "\n"
        let prefill = TransformerMode(length: 8, decode: false).word, decode = TransformerMode(length: 1, decode: true).word
        files["instructions.txt"] = "# one run of the engine; the mode word {decode, length[8:0]} selects prefill (e.g. 8 tokens: \(prefill)) or a decode step (\(decode))\n"
            + d.instructions.map(\.description).joined(separator: "\n") + "\n"
        return files
    }

    /// Writes a transformer design directory atomically; `source` (the compile command's arguments)
    /// goes to transformer.json so that `verify` can recompile it and check the directory is its output.
    public static func writeTransformerDesign(_ d: TransformerDesign, to path: String, source: [String]? = nil) throws {
        var files = try transformerFiles(d)
        if let source {
            let json = try JSONSerialization.data(withJSONObject: ["arguments": source], options: [.prettyPrinted, .sortedKeys])
            files["transformer.json"] = String(decoding: json, as: UTF8.self) + "\n"
        }
        try DesignDirectory.write(files, to: path)
    }

    /// The compile arguments a transformer design directory records, or nil if it is not one.
    public static func transformerSource(_ design: String) throws -> [String]? {
        guard let data = FileManager.default.contents(atPath: "\(design)/transformer.json") else { return nil }
        guard let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let args = json["arguments"] as? [String] else {
            throw UsageError("\(design)/transformer.json: not a transformer design record")
        }
        return args
    }

    /// Checks that `design` holds exactly the files a fresh compile of `d` writes (build products aside).
    public static func checkTransformerDirectory(_ d: TransformerDesign, design: String) throws {
        for (path, text) in try transformerFiles(d).sorted(by: { $0.key < $1.key }) {
            guard FileManager.default.contents(atPath: "\(design)/\(path)") == Data(text.utf8) else {
                throw UsageError("\(design)/\(path): differs from a fresh compile of its checkpoint (recompile the design)")
            }
        }
    }
}

extension Driver {
    /// Runs each sequence through the Swift engine and `simulators` (one build each) and reports whether the integers agree.
    public static func checkEncoding(_ c: CompiledTransformer, sequences: [[Int]], simulators: [String], directory: String? = nil) throws -> [String] {
        let engine = TransformerEngine(c.design)
        let dir = directory ?? NSTemporaryDirectory() + "lutforge-encode-\(UUID().uuidString.prefix(8))"
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        if directory == nil { try writeTransformerDesign(c.design, to: dir) }
        var lines: [String] = []
        for sim in simulators {
            var same = 0, cycles: [Int] = []
            for ids in sequences {
                var session = engine.session()
                let want = try engine.run(ids, session: &session)
                let got: [[Int]]
                switch sim {
                case "verilator":
                    let r = try TransformerVerilator.encode(c.design, ids: ids, mask: nil, directory: dir)
                    (got, cycles) = (r.hidden, cycles + [r.cycles])
                case "csim": got = try TransformerCSim.encode(c.design, ids: ids, mask: nil, directory: dir)
                default: throw UsageError("--simulators: '\(sim)' cannot run a transformer (verilator, csim)")
                }
                if got == want { same += 1 }
            }
            let note = cycles.isEmpty ? "" : ", \(cycles.min()!)...\(cycles.max()!) cycles per sequence"
            lines.append("\(sim): \(same) of \(sequences.count) sequences \(same == sequences.count ? "BIT-EXACT" : "MISMATCH") against the Swift engine\(note)")
        }
        return lines
    }
}
