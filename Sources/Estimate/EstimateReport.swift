// estimate.json: the cycle and resource models of a design at a device and
// clock, beside synthesis when synth.json exists.
import HardwareIR

/// Model figures of one layer (kernel).
public struct LayerEstimate: Codable, Sendable, Equatable {
    /// Kernel name.
    public var name: String
    /// Kernel kind (`dsp-chain`, `lut-linear`, `threshold`, …).
    public var kind: String
    /// The layer's share of the design latency, cycles.
    public var latencyCycles: Int
    /// Cycles the layer is busy per inference.
    public var occupancyCycles: Int
    /// `latencyCycles` at the clock, µs.
    public var latencyUs: Double
    /// Logic LUTs.
    public var luts: Int
    /// LUTs as distributed RAM.
    public var lutram: Int
    /// Flip-flops.
    public var flipFlops: Int
    /// DSP slices.
    public var dsp: Int
    /// 18 Kb block RAM halves.
    public var bram18: Int
    /// UltraRAM blocks.
    public var uram: Int
    /// Placement of each read-only memory.
    public var memories: [MemoryPlacement]
}

/// Whole-design totals.
public struct DesignTotals: Codable, Sendable, Equatable {
    /// Logic LUTs.
    public var luts: Int
    /// LUTs as distributed RAM.
    public var lutram: Int
    /// Flip-flops.
    public var flipFlops: Int
    /// DSP slices.
    public var dsp: Int
    /// 18 Kb block RAM halves.
    public var bram18: Int
    /// UltraRAM blocks.
    public var uram: Int
}

/// `estimate.json`.
public struct EstimateReport: Codable, Sendable, Equatable {
    /// Device id.
    public var device: String
    /// Device name and part.
    public var deviceName: String
    /// Vendor part.
    public var part: String
    /// Clock, MHz.
    public var clockMhz: Double
    /// Cycles from the first input beat to the last output beat.
    public var latencyCycles: Int
    /// Cycles between inferences streamed back to back.
    public var intervalCycles: Int
    /// Latency at the clock, µs.
    public var latencyUs: Double
    /// Inferences per second when streamed (`clock / interval`).
    public var throughputPerSecond: Double
    /// Per layer.
    public var layers: [LayerEstimate]
    /// Model totals.
    public var total: DesignTotals
    /// Model totals as a percentage of the device (AMD devices; the model is for Xilinx fabric).
    public var utilisationPercent: [String: Double]?
    /// Whether the model totals fit the device (AMD devices).
    public var fits: Bool?
    /// Yosys xc7 figures from synth.json, when it exists and is for xc7.
    public var synthesis: DesignTotals?
    /// What the model covers and what it does not.
    public var notes: [String]

    /// The models of `program` at `device` and `clockMHz`, with `synthesis` beside them when given.
    public static func make(_ program: Program, device: Device, clockMHz: Double, synthesis: SynthesisReport?) -> EstimateReport {
        let cycles = CycleModel.kernels(program), resources = ResourceModel.kernels(program), total = ResourceModel.total(program)
        let us = { (c: Int) in (Double(c) / clockMHz * 1000).rounded() / 1000 }
        let layers = zip(program.nodes, zip(cycles, resources)).map { k, cr in
            LayerEstimate(name: k.name, kind: k.kind, latencyCycles: cr.0.latencyCycles, occupancyCycles: cr.0.occupancyCycles,
                          latencyUs: us(cr.0.latencyCycles), luts: cr.1.luts, lutram: cr.1.lutram, flipFlops: cr.1.flipFlops,
                          dsp: cr.1.dsp, bram18: cr.1.bram18, uram: cr.1.uram, memories: cr.1.memories)
        }
        let totals = DesignTotals(luts: total.luts, lutram: total.lutram, flipFlops: total.flipFlops, dsp: total.dsp,
                                  bram18: total.bram18, uram: 0)
        var utilisation: [String: Double]?
        var fits: Bool?
        if device.isAMD {
            // A resource the device lacks counts as 100 % per unit used, so it never fits.
            func pct(_ used: Int, _ available: Int) -> Double { available == 0 ? Double(used) * 100 : (Double(used) / Double(available) * 1000).rounded() / 10 }
            let u = ["luts": pct(totals.luts + totals.lutram, device.luts), "flip_flops": pct(totals.flipFlops, device.ffs),
                     "dsp": pct(totals.dsp, device.dsps), "bram18": pct(totals.bram18, device.bram18)]
            utilisation = u
            fits = u.values.allSatisfy { $0 <= 100 }
        }
        var synthTotals: DesignTotals?
        if let s = synthesis, s.family == .xc7 {
            synthTotals = DesignTotals(luts: s.luts, lutram: s.lutram, flipFlops: s.flipFlops, dsp: s.dsp, bram18: s.bram18, uram: 0)
        }
        var notes = [
            "cycles: from the HardwareIR kernel schedules; equal to Verilator's (latency one vector at a time, interval streamed)",
            "resources: Xilinx 7-series fabric as Yosys synth_xilinx -family xc7 maps it; DSP and block RAM predicted exactly, LUTs estimated, flip-flops and LUTRAM rough",
        ]
        if !device.isAMD { notes.append("\(device.id) is not an AMD device: run `lutforge synth DIR --family ice40` for its real figures") }
        if device.family == "versal" { notes.append("Versal DSP58 and UltraScale+ DSP48E2 are counted as DSP48E1 (one per multiply)") }
        return EstimateReport(
            device: device.id, deviceName: device.name, part: device.part, clockMhz: clockMHz, latencyCycles: program.latencyCycles,
            intervalCycles: program.initiationIntervalCycles, latencyUs: us(program.latencyCycles),
            throughputPerSecond: CycleModel.throughputPerSecond(program, clockMHz: clockMHz),
            layers: layers, total: totals, utilisationPercent: utilisation, fits: fits, synthesis: synthTotals, notes: notes)
    }
}
