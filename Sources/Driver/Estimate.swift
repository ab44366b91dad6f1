// `lutforge synth`, `estimate` and `report`: synthesis, the cycle and resource
// models, and the FPGA-vs-CPU report of a design directory.
import Estimate
import Foundation
import HardwareIR

extension Driver {
    static func json<T: Encodable>(_ value: T) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return try encoder.encode(value) + Data("\n".utf8)
    }

    /// The device and clock to report at: the options, else the design's target, else the default device.
    static func resolve(_ program: Program, device: String?, clockMHz: Double?) throws -> (Device, Double) {
        let id = device ?? program.target?.device ?? DeviceDatabase.defaultID
        let d = try DeviceDatabase.device(id)
        try checkClock(clockMHz)
        // The design's clock holds for the design's own device; another device gets its typical clock.
        let clock = clockMHz ?? (program.target?.device == d.id ? program.target?.clockMHz : nil) ?? d.clockMhz
        return (d, clock)
    }

    /// Synthesises the design's RTL and writes `synth.json`. For iCE40 the device is `device`,
    /// else the design's target when it is an iCE40, else the UP5K.
    public static func synthesize(_ design: String, family: Family, bitstream: Bool = false, device: String? = nil,
                                  clockMHz: Double? = nil) throws -> SynthesisReport {
        let program = try loadDesign(design)
        if bitstream && family != .ice40 { throw UsageError("--bitstream needs --family ice40 (the open-source flow places and routes iCE40 only)") }
        if family != .ice40 && (device != nil || clockMHz != nil) { throw UsageError("--device and --clock-mhz apply to --family ice40 only") }
        try checkClock(clockMHz)
        var d: Device?
        var clock = clockMHz
        if family == .ice40 {
            var id = device
            if id == nil, let t = program.target, t.vendor == "Lattice" { id = t.device }
            let ice = try DeviceDatabase.device(id ?? "ice40-up5k")
            guard ice.family == "ice40" else { throw UsageError("--device \(ice.id) is not an iCE40 device (ice40-up5k, ice40-hx8k)") }
            d = ice
            clock = clock ?? (program.target?.device == ice.id ? program.target?.clockMHz : nil) ?? ice.clockMhz
        }
        let report = try Synthesis.run(designDir: design, family: family, bitstream: bitstream, device: d, clockMHz: clock)
        try DesignDirectory.writeFile(try json(report), to: "\(design)/synth.json")
        return report
    }

    /// The models at the device and clock, beside `synth.json` when present; writes `estimate.json`.
    public static func estimate(_ design: String, device: String? = nil, clockMHz: Double? = nil) throws -> EstimateReport {
        let program = try loadDesign(design)
        let (d, clock) = try resolve(program, device: device, clockMHz: clockMHz)
        var synth: SynthesisReport?
        let synthPath = "\(design)/synth.json"
        if let data = FileManager.default.contents(atPath: synthPath) {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            synth = try? decoder.decode(SynthesisReport.self, from: data)
        }
        var report = EstimateReport.make(program, device: d, clockMHz: clock, synthesis: synth)
        if synth == nil && FileManager.default.fileExists(atPath: synthPath) {
            report.notes.append("synth.json is unreadable (written by an older LUTForge?): run lutforge synth again")
        }
        try DesignDirectory.writeFile(try json(report), to: "\(design)/estimate.json")
        return report
    }

    /// Times the Swift engine, sets it beside the FPGA model, and writes `report.json`, `report.md` and `report.svg`.
    public static func report(_ design: String, device: String? = nil, clockMHz: Double? = nil, repeats: Int = 31) throws -> PerformanceReport {
        let program = try loadDesign(design)
        let (d, clock) = try resolve(program, device: device, clockMHz: clockMHz)
        guard repeats >= 1 else { throw UsageError("--repeats must be at least 1, got \(repeats)") }
        let vector = VectorSource.seeded(program, count: 5, seed: 1)[4]
        let report = try PerformanceReport.measure(program, device: d.id, clockMHz: clock, vector: vector, repeats: repeats)
        try DesignDirectory.writeFile(try json(report), to: "\(design)/report.json")
        try DesignDirectory.writeFile(Data(report.markdown.utf8), to: "\(design)/report.md")
        try DesignDirectory.writeFile(Data(report.svg.utf8), to: "\(design)/report.svg")
        return report
    }
}
