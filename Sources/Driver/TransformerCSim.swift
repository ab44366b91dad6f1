// C-simulation of a transformer design: the generated hls/ (HLS/lutforge/transformer.h and the
// linear kernels) built with g++ against the ap_types headers and run as a process; its
// printed logits and tokens (decoders) or hidden states (encoders) read back.
import EmitHLS
import Foundation
import HardwareIR
import Simulate

public enum TransformerCSim {
    /// Writes `hls/` of `d` under `directory` and builds the C-simulation binary; returns its path.
    public static func build(_ d: TransformerDesign, in directory: String) throws -> String {
        let hls = "\(directory)/hls"
        if !FileManager.default.fileExists(atPath: "\(hls)/transformer.cpp") { try Driver.writeTransformerDesign(d, to: directory) }
        let apTypes = CSimBackend.apTypesDirectory
        guard FileManager.default.fileExists(atPath: "\(apTypes)/ap_int.h") else {
            throw SimulationError.missingSupport(path: "\(apTypes)/ap_int.h", hint: "run scripts/setup.sh to install the Xilinx ap_types headers, or set LUTFORGE_AP_TYPES")
        }
        _ = try ToolRunner.run(Invocation("make", ["-s", "csim", "AP_TYPES=\(apTypes)"], in: hls, timeout: 1200))
        return "\(hls)/csim"
    }

    /// The design directory's off-chip image, when it has one.
    static func offChipPath(_ dir: String) -> String? {
        let path = URL(fileURLWithPath: "\(dir)/\(Driver.offChipFile)").standardizedFileURL.path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// `--offchip PATH` when the design directory has an off-chip image.
    static func offChipArguments(_ dir: String) -> [String] { offChipPath(dir).map { ["--offchip", $0] } ?? [] }

    static func rows(_ text: String, tag: String) -> [[Int]] {
        text.split(separator: "\n").filter { $0.hasPrefix(tag + " ") }.map { $0.split(separator: " ").dropFirst().map { Int($0)! } }
    }

    /// Greedy generation in C-simulation (a fresh build in a temporary directory).
    public static func generate(_ d: TransformerDesign, prompt: [Int], count: Int, directory: String? = nil) throws -> (logits: [[Int]], tokens: [Int]) {
        let dir = directory ?? NSTemporaryDirectory() + "lutforge-tf-\(UUID().uuidString.prefix(8))"
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let exe = try build(d, in: dir)
        let text = try ToolRunner.run(Invocation(exe, ["--ids", prompt.map(String.init).joined(separator: ","), "--new-tokens", "\(count)"]
                                                 + offChipArguments(dir), in: dir, timeout: 1200))
        return (rows(text, tag: "logits"), rows(text, tag: "token").map { $0[0] })
    }

    /// The last hidden state of an encoder in C-simulation.
    public static func encode(_ d: TransformerDesign, ids: [Int], mask: [Int]?, directory: String? = nil) throws -> [[Int]] {
        let dir = directory ?? NSTemporaryDirectory() + "lutforge-tf-\(UUID().uuidString.prefix(8))"
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let exe = try build(d, in: dir)
        var args = ["--ids", ids.map(String.init).joined(separator: ",")]
        if let mask { args += ["--mask", mask.map(String.init).joined(separator: ",")] }
        return rows(try ToolRunner.run(Invocation(exe, args + offChipArguments(dir), in: dir, timeout: 1200)), tag: "hidden")
    }
}

/// Verilator simulation of a transformer's RTL engine: the harness sim/transformer_verilator.cpp
/// built against rtl/, run as a process; logits, tokens and cycles per run read back.
public enum TransformerVerilator {
    public static func build(_ d: TransformerDesign, in directory: String) throws -> String {
        if !FileManager.default.fileExists(atPath: "\(directory)/rtl/files.f") { try Driver.writeTransformerDesign(d, to: directory) }
        guard ToolRunner.available("verilator") else { throw ToolError.notFound(tool: "verilator", hint: "install it with scripts/setup.sh") }
        let sim = "\(directory)/sim"
        _ = try ToolRunner.run(Invocation("make", ["-s", "MEM_DIR=\(URL(fileURLWithPath: directory).standardizedFileURL.path)/rtl/"], in: sim, timeout: 1800))
        return "\(sim)/obj_dir/Vlutforge_transformer"
    }

    static func cycles(_ text: String, _ tag: String) -> [Int] {
        text.split(separator: "\n").filter { $0.hasPrefix("cycles \(tag) ") }.map { Int($0.split(separator: " ")[2])! }
    }

    /// The harness's memory model arguments.
    static func memoryArguments(_ dir: String, _ m: MemoryModel) -> [String] {
        TransformerCSim.offChipArguments(dir) + ["--mem-latency", "\(m.latency)", "--mem-interval", "\(m.interval)"]
    }

    /// Greedy generation in Verilator with the off-chip memory `memory`; `cycles` holds the prefill's and each decode step's.
    public static func generate(_ d: TransformerDesign, prompt: [Int], count: Int, directory: String? = nil,
                                memory: MemoryModel = .standard) throws -> (logits: [[Int]], tokens: [Int], cycles: [Int]) {
        let dir = directory ?? NSTemporaryDirectory() + "lutforge-tf-\(UUID().uuidString.prefix(8))"
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let exe = try build(d, in: dir)
        let text = try ToolRunner.run(Invocation(exe, ["--ids", prompt.map(String.init).joined(separator: ","), "--new-tokens", "\(count)"]
                                                 + memoryArguments(dir, memory), in: dir, timeout: 3600))
        return (TransformerCSim.rows(text, tag: "logits"), TransformerCSim.rows(text, tag: "token").map { $0[0] },
                cycles(text, "prefill") + cycles(text, "decode"))
    }

    /// The last hidden state of an encoder in Verilator, and the cycles of the run.
    public static func encode(_ d: TransformerDesign, ids: [Int], mask: [Int]?, directory: String? = nil,
                              memory: MemoryModel = .standard) throws -> (hidden: [[Int]], cycles: Int) {
        let dir = directory ?? NSTemporaryDirectory() + "lutforge-tf-\(UUID().uuidString.prefix(8))"
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        let exe = try build(d, in: dir)
        var args = ["--ids", ids.map(String.init).joined(separator: ",")]
        if let mask { args += ["--mask", mask.map(String.init).joined(separator: ",")] }
        let text = try ToolRunner.run(Invocation(exe, args + memoryArguments(dir, memory), in: dir, timeout: 3600))
        return (TransformerCSim.rows(text, tag: "hidden"), cycles(text, "prefill").first ?? 0)
    }
}

/// Icarus Verilog simulation of a transformer's RTL engine (sim/transformer_icarus_tb.v): the same
/// prefill and greedy decode as the Verilator harness, slower; for designs small enough to wait for.
public enum TransformerIcarus {
    static func run(_ d: TransformerDesign, ids: [Int], extra: [String], directory: String?, memory: MemoryModel) throws -> String {
        let dir = directory ?? NSTemporaryDirectory() + "lutforge-tf-\(UUID().uuidString.prefix(8))"
        defer { if directory == nil { try? FileManager.default.removeItem(atPath: dir) } }
        if !FileManager.default.fileExists(atPath: "\(dir)/rtl/files.f") { try Driver.writeTransformerDesign(d, to: dir) }
        guard ToolRunner.available("iverilog") else { throw ToolError.notFound(tool: "iverilog", hint: "install it with scripts/setup.sh") }
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path
        let outWidth = d.isDecoder ? d.vocabSize : d.hiddenSize
        _ = try ToolRunner.run(Invocation("iverilog", ["-g2005", "-o", "\(root)/sim/icarus.vvp", "-s", "lutforge_transformer_tb",
                                                       "-Plutforge_transformer_tb.MEM_DIR=\"\(root)/rtl/\"",
                                                       "-Plutforge_transformer_tb.ID_BITS=\(d.tokenType.bits)",
                                                       "-Plutforge_transformer_tb.OUT_W=\(outWidth)",
                                                       "-Plutforge_transformer_tb.MEM_WORDS=\(max(1, d.offChipWords))",
                                                       "-c", "files.f", "\(root)/sim/transformer_icarus_tb.v"], in: "\(root)/rtl", timeout: 600))
        try (ids.map { String($0, radix: 16) }.joined(separator: "\n") + "\n").write(toFile: "\(root)/sim/ids.mem", atomically: true, encoding: .utf8)
        return try ToolRunner.run(Invocation("vvp", ["-n", "\(root)/sim/icarus.vvp", "+ids=\(root)/sim/ids.mem", "+n=\(ids.count)"] + extra
                                             + (TransformerCSim.offChipPath(dir).map { ["+offchip=\($0)"] } ?? [])
                                             + ["+mem_latency=\(memory.latency)", "+mem_interval=\(memory.interval)"],
                                             in: "\(root)/sim", timeout: 3600))
    }

    /// Greedy generation in Icarus.
    public static func generate(_ d: TransformerDesign, prompt: [Int], count: Int, directory: String? = nil,
                                memory: MemoryModel = .standard) throws -> (logits: [[Int]], tokens: [Int]) {
        let text = try run(d, ids: prompt, extra: ["+new=\(count)"], directory: directory, memory: memory)
        return (TransformerCSim.rows(text, tag: "logits"), TransformerCSim.rows(text, tag: "token").map { $0[0] })
    }
}
