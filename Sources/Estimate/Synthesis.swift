// Open-source synthesis of a design directory's RTL: Yosys for Xilinx 7-series
// cell counts, and Yosys + nextpnr-ice40 + icepack for a real iCE40 bitstream
// with its utilisation and Fmax.
import Foundation
import HardwareIR
import Simulate

/// FPGA families LUTForge synthesises for with open-source tools.
public enum Family: String, Codable, Sendable, CaseIterable {
    /// Xilinx 7-series (`synth_xilinx -family xc7`): DSP48E1, RAMB18E1/RAMB36E1. Cell counts only.
    case xc7
    /// Lattice iCE40 (`synth_ice40`, nextpnr-ice40, icepack): a bitstream for the UP5K.
    case ice40
}

/// What synthesis (and, for iCE40, place and route) produced.
public struct SynthesisReport: Codable, Sendable, Equatable {
    /// Target family.
    public var family: Family
    /// Yosys cell counts of the whole design, by cell type.
    public var cells: [String: Int]
    /// DSP slices (`DSP48E1` or `SB_MAC16`).
    public var dsp: Int
    /// 18 Kb block RAM halves, `RAMB18E1 + 2 · RAMB36E1` (xc7); 0 on iCE40.
    public var bram18: Int
    /// 4 Kb embedded block RAMs, `SB_RAM40_4K` (iCE40); 0 on xc7.
    public var ebr4k: Int
    /// LUTs used as logic (`LUT1`…`LUT6`, or `SB_LUT4`).
    public var luts: Int
    /// LUTs used as distributed RAM or shift registers (xc7: `RAM32M`/`RAM64M` count 4 each,
    /// `RAM32X1D`/`RAM64X1D` 2, `SRL16E`/`SRLC32E` 1).
    public var lutram: Int
    /// Flip-flops.
    public var flipFlops: Int
    /// The device placed and routed on (iCE40 with `--bitstream`).
    public var device: String?
    /// nextpnr's utilisation, `used / available` by resource (`ICESTORM_LC`, …).
    public var utilisation: [String: String]?
    /// nextpnr's maximum frequency of `clk`, MHz.
    public var fmaxMhz: Double?
    /// The bitstream, relative to the design directory.
    public var bitstream: String?
    /// Notes (for example, DSP inference turned off because the multipliers do not fit).
    public var notes: [String]
    /// Wall time, seconds.
    public var seconds: Double
}

/// The design does not fit the device: one line saying what overflows.
public struct FitError: Error, CustomStringConvertible {
    /// Design directory.
    public var design: String
    /// Device id.
    public var device: String
    /// What overflows, e.g. "SB_LUT4 6120 > 5280".
    public var overflow: [String]
    public var description: String {
        "\(design): does not fit the \(device): \(overflow.joined(separator: ", ")); choose fewer lanes, sparser weights or smaller tables"
    }
}

/// Runs Yosys (and nextpnr) on `rtl/`.
public enum Synthesis {
    static let yosysHint = "install it with scripts/setup.sh (Debian package yosys)"

    /// Synthesises `designDir/rtl` for `family`. For iCE40 with `bitstream`, also places and
    /// routes on `device` at `clockMHz` and packs `bitstream/lutforge_top.bin`.
    public static func run(designDir: String, family: Family = .xc7, bitstream: Bool = false, device: Device? = nil,
                           clockMHz: Double? = nil, timeout: Double = 1800) throws -> SynthesisReport {
        let start = Date()
        let rtl = URL(fileURLWithPath: designDir).appendingPathComponent("rtl").standardizedFileURL.path
        let files = try String(contentsOfFile: "\(rtl)/files.f", encoding: .utf8).split(separator: "\n").joined(separator: " ")
        let stat = "\(rtl)/.yosys-stat.json"
        defer { try? FileManager.default.removeItem(atPath: stat) }
        // -defer elaborates modules only with the top's parameters; table images resolve
        // relative to rtl/, the top's default MEM_DIR.
        let read = "read_verilog -defer -sv \(files); hierarchy -top lutforge_top"
        switch family {
        case .xc7:
            try ToolRunner.run(Invocation("yosys", ["-q", "-p", "\(read); synth_xilinx -family xc7 -top lutforge_top; tee -q -o \(stat) stat -json"],
                                          in: rtl, timeout: timeout, installHint: yosysHint))
            let cells = try cellCounts(String(contentsOfFile: stat, encoding: .utf8), file: stat)
            func count(_ prefix: String) -> Int { cells.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
            let lutram = 4 * (count("RAM32M") + count("RAM64M")) + 2 * (count("RAM32X1D") + count("RAM64X1D")) + count("SRL")
            return SynthesisReport(
                family: family, cells: cells, dsp: count("DSP48"), bram18: count("RAMB18") + 2 * count("RAMB36"), ebr4k: 0,
                luts: count("LUT"), lutram: lutram, flipFlops: count("FD"), device: nil, utilisation: nil, fmaxMhz: nil,
                bitstream: nil, notes: [], seconds: Date().timeIntervalSince(start))
        case .ice40:
            return try ice40(designDir: designDir, rtl: rtl, read: read, stat: stat, bitstream: bitstream, device: device,
                             clockMHz: clockMHz, timeout: timeout, start: start)
        }
    }

    static func ice40(designDir: String, rtl: String, read: String, stat: String, bitstream: Bool, device: Device?,
                      clockMHz: Double?, timeout: Double, start: Date) throws -> SynthesisReport {
        let out = URL(fileURLWithPath: designDir).appendingPathComponent("bitstream").standardizedFileURL.path
        let work = out + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var notes: [String] = []
        func synthesize(dsp: Bool) throws -> [String: Int] {
            try ToolRunner.run(Invocation("yosys", ["-q", "-p", "\(read); synth_ice40 \(dsp ? "-dsp " : "")-top lutforge_top -json \(work)/lutforge_top.json; tee -q -o \(stat) stat -json"],
                                          in: rtl, timeout: timeout, installHint: yosysHint))
            return try cellCounts(String(contentsOfFile: stat, encoding: .utf8), file: stat)
        }
        var cells = try synthesize(dsp: true)
        let macs = cells["SB_MAC16"] ?? 0
        if let device, macs > device.dsps {
            notes.append("\(macs) SB_MAC16 would exceed the \(device.dsps) of the \(device.id): multipliers built from LUTs instead")
            cells = try synthesize(dsp: false)
        }
        func count(_ prefix: String) -> Int { cells.filter { $0.key.hasPrefix(prefix) }.values.reduce(0, +) }
        var report = SynthesisReport(
            family: .ice40, cells: cells, dsp: count("SB_MAC16"), bram18: 0, ebr4k: count("SB_RAM40_4K"), luts: count("SB_LUT4"),
            lutram: 0, flipFlops: count("SB_DFF"), device: nil, utilisation: nil, fmaxMhz: nil, bitstream: nil, notes: notes, seconds: 0)
        guard bitstream else {
            report.seconds = Date().timeIntervalSince(start)
            return report
        }
        guard let device, device.family == "ice40" else {
            throw DeviceError(message: "--bitstream needs an iCE40 device (--device ice40-up5k or ice40-hx8k)")
        }
        // One logic cell holds a LUT4 and a flip-flop; a flip-flop without a LUT still takes a cell.
        var overflow: [String] = []
        let logicCells = max(report.luts, report.flipFlops)
        if logicCells > device.luts { overflow.append("at least \(logicCells) logic cells > \(device.luts)") }
        if report.ebr4k > device.ebr4k { overflow.append("SB_RAM40_4K \(report.ebr4k) > \(device.ebr4k)") }
        if report.dsp > device.dsps { overflow.append("SB_MAC16 \(report.dsp) > \(device.dsps)") }
        guard overflow.isEmpty else { throw FitError(design: designDir, device: device.id, overflow: overflow) }
        let parts = device.part.split(separator: " ").map(String.init)
        guard parts.count == 2 else { throw DeviceError(message: "\(device.id): part '\(device.part)' is not '<device> <package>'") }
        let clock = clockMHz ?? device.clockMhz
        let log: String
        do {
            log = try ToolRunner.run(Invocation(
                "nextpnr-ice40", ["--\(parts[0])", "--package", parts[1], "--json", "lutforge_top.json", "--asc", "lutforge_top.asc",
                                  "--freq", String(format: "%g", clock), "--pcf-allow-unconstrained", "--seed", "1"],
                in: work, timeout: timeout, installHint: "install it with scripts/setup.sh (Debian package nextpnr-ice40)"))
        } catch let ToolError.failed(command, status, tail) where tail.contains("Unable to place") || tail.contains("no BELs remaining") {
            throw FitError(design: designDir, device: device.id, overflow: ["nextpnr could not place it (`\(command)` status \(status))"])
        }
        try? Data(log.utf8).write(to: URL(fileURLWithPath: "\(work)/nextpnr.log"))
        try ToolRunner.run(Invocation("icepack", ["lutforge_top.asc", "lutforge_top.bin"], in: work, timeout: 600,
                                      installHint: "install it with scripts/setup.sh (Debian package fpga-icestorm)"))
        report.device = device.id
        report.utilisation = utilisation(log)
        report.fmaxMhz = fmax(log)
        report.bitstream = "bitstream/lutforge_top.bin"
        try? FileManager.default.removeItem(atPath: out)
        try FileManager.default.moveItem(atPath: work, toPath: out)
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// `Info: ICESTORM_LC: 4637/ 5280 87%` lines of nextpnr's device utilisation.
    static func utilisation(_ log: String) -> [String: String] {
        var result: [String: String] = [:]
        var inside = false
        for line in log.split(separator: "\n") {
            if line.contains("Device utilisation:") { inside = true; continue }
            guard inside else { continue }
            let fields = line.replacingOccurrences(of: "Info:", with: "").split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 3, fields[0].hasSuffix(":") else { if !result.isEmpty { break } else { continue } }
            let used = fields[1].replacingOccurrences(of: "/", with: "")
            result[String(fields[0].dropLast())] = "\(used)/\(fields[2])"
        }
        return result
    }

    /// The last `Max frequency for clock 'clk…': F MHz` nextpnr prints (after routing).
    static func fmax(_ log: String) -> Double? {
        var value: Double?
        for line in log.split(separator: "\n") where line.contains("Max frequency for clock") {
            guard let colon = line.range(of: "': ") else { continue }
            let rest = line[colon.upperBound...].split(separator: " ")
            if let f = rest.first.flatMap({ Double($0) }) { value = f }
        }
        return value
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
