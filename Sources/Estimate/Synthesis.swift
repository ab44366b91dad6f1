// Yosys synthesis of a design directory's RTL and the cell counts it reports.
import Foundation
import HardwareIR
import Simulate

/// FPGA families Yosys synthesises for.
public enum Family: String, Codable, Sendable, CaseIterable {
    /// Xilinx 7-series (`synth_xilinx -family xc7`): DSP48E1, RAMB18E1/RAMB36E1.
    case xc7
}

/// What synthesis used.
public struct SynthesisReport: Codable, Sendable, Equatable {
    /// Target family.
    public var family: Family
    /// Yosys cell counts of the whole design, by cell type.
    public var cells: [String: Int]
    /// DSP slices (`DSP48E1`).
    public var dsp: Int
    /// 18 Kb block RAM halves: `RAMB18E1 + 2 · RAMB36E1`.
    public var bram18: Int
    /// LUTs of any size.
    public var luts: Int
    /// Flip-flops.
    public var flipFlops: Int
    /// Wall time, seconds.
    public var seconds: Double
}

/// Runs Yosys on `rtl/`.
public enum Synthesis {
    /// Synthesises `designDir/rtl` for `family` and returns the cell counts.
    public static func run(designDir: String, family: Family = .xc7, timeout: Double = 1800) throws -> SynthesisReport {
        let start = Date()
        let rtl = URL(fileURLWithPath: designDir).appendingPathComponent("rtl").standardizedFileURL.path
        let files = try String(contentsOfFile: "\(rtl)/files.f", encoding: .utf8).split(separator: "\n").joined(separator: " ")
        let stat = "\(rtl)/.yosys-stat.json"
        defer { try? FileManager.default.removeItem(atPath: stat) }
        // -defer elaborates modules only with the top's parameters; table images resolve
        // relative to rtl/, the top's default MEM_DIR.
        let script = "read_verilog -defer -sv \(files); hierarchy -top lutforge_top; synth_xilinx -family \(family.rawValue) -top lutforge_top; tee -q -o \(stat) stat -json"
        try ToolRunner.run(Invocation("yosys", ["-q", "-p", script], in: rtl, timeout: timeout,
                                      installHint: "install it with scripts/setup.sh (Debian package yosys)"))
        let cells = try cellCounts(String(contentsOfFile: stat, encoding: .utf8), file: stat)
        func count(_ prefix: String) -> Int { cells.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
        return SynthesisReport(
            family: family, cells: cells, dsp: count("DSP48"), bram18: count("RAMB18") + 2 * count("RAMB36"),
            luts: count("LUT"), flipFlops: count("FD"), seconds: Date().timeIntervalSince(start))
    }

    /// The whole design's `num_cells_by_type` from `stat -json` output. Yosys 0.23 can
    /// put hierarchy text inside that JSON, so the design section is cut out and parsed alone.
    static func cellCounts(_ text: String, file: String) throws -> [String: Int] {
        guard let design = text.range(of: "\"design\":"),
              let open = text.range(of: "\"num_cells_by_type\":", range: design.upperBound..<text.endIndex),
              let brace = text.range(of: "{", range: open.upperBound..<text.endIndex),
              let close = text.range(of: "}", range: brace.upperBound..<text.endIndex) else {
            throw SimulationError.badOutput(file: file, reason: "no design cell counts in Yosys stat output")
        }
        let body = "{" + text[brace.upperBound..<close.lowerBound] + "}"
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Int] else {
            throw SimulationError.badOutput(file: file, reason: "unreadable cell counts")
        }
        return object
    }
}
