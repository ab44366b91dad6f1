// `lutforge report`: the modelled FPGA latency beside the bit-exact Swift engine
// timed on this CPU, per layer and in total, as JSON, Markdown and an SVG chart.
import Dispatch
import Foundation
import HardwareIR
import ReferenceEngine

/// One layer (or the total) of the report.
public struct PerformanceRow: Codable, Sendable, Equatable {
    /// Kernel name, or `total`.
    public var name: String
    /// Modelled FPGA cycles (the layer's share of the latency).
    public var fpgaCycles: Int
    /// Modelled FPGA time at the clock, µs.
    public var fpgaUs: Double
    /// Median time of the Swift engine on one thread, batch 1, µs.
    public var cpuUs: Double
    /// Median time with the layer's outputs split across all threads, µs.
    public var cpuAllThreadsUs: Double
    /// `cpuUs / fpgaUs`: how many times faster the FPGA model is than one CPU thread.
    public var speedup: Double
    /// `cpuAllThreadsUs / fpgaUs`.
    public var speedupAllThreads: Double
}

/// `report.json`.
public struct PerformanceReport: Codable, Sendable, Equatable {
    /// Device id and part.
    public var device: String
    /// Clock, MHz.
    public var clockMhz: Double
    /// This machine: processor count and OS.
    public var cpu: String
    /// Threads used for the all-threads timing.
    public var threads: Int
    /// Timed runs per layer after warm-up (median taken).
    public var repeats: Int
    /// Per layer, then `total`.
    public var layers: [PerformanceRow]
    /// The whole inference.
    public var total: PerformanceRow
    /// FPGA inferences per second streamed (`clock / interval`).
    public var fpgaThroughputPerSecond: Double
    /// CPU inferences per second, one thread, batch 1.
    public var cpuThroughputPerSecond: Double
    /// How the figures were obtained.
    public var method: String

    /// Times the engine on `program` with `vector` as input and sets it beside the cycle model at `clockMHz`.
    public static func measure(_ program: Program, device: String, clockMHz: Double, vector: [Int], repeats: Int = 31,
                               threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> PerformanceReport {
        let cycles = CycleModel.kernels(program)
        let env = try IntegerEngine.evaluateAll(program, vector)
        func median(_ body: () throws -> Void) rethrows -> Double {
            for _ in 0..<3 { try body() }
            var times: [Double] = []
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                try body()
                times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
            }
            times.sort()
            return times[times.count / 2]
        }
        func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
        func row(_ name: String, _ c: Int, _ one: Double, _ all: Double) -> PerformanceRow {
            let fpga = Double(c) / clockMHz
            return PerformanceRow(name: name, fpgaCycles: c, fpgaUs: round3(fpga), cpuUs: round3(one), cpuAllThreadsUs: round3(all),
                                  speedup: round3(one / fpga), speedupAllThreads: round3(all / fpga))
        }
        var rows: [PerformanceRow] = []
        for (i, k) in program.nodes.enumerated() {
            let x = k.inputs.map { env[$0]! }
            var sink = 0
            let one = try median { sink &+= try IntegerEngine.run(k, x).count }
            let all = try median { sink &+= try IntegerEngine.run(k, x, threads: threads).count }
            precondition(sink > 0)
            rows.append(row(k.name, cycles[i].latencyCycles, one, all))
        }
        let oneTotal = try median { _ = try IntegerEngine.run(program, vector) }
        let allTotal = try median { _ = try IntegerEngine.run(program, vector, threads: threads) }
        let total = row("total", program.latencyCycles, oneTotal, allTotal)
        #if DEBUG
        let build = "debug build (`swift run` builds debug; `swift run -c release lutforge report` gives representative CPU figures)"
        #else
        let build = "release build"
        #endif
        let os = ProcessInfo.processInfo.operatingSystemVersionString
        return PerformanceReport(
            device: device, clockMhz: clockMHz, cpu: "\(ProcessInfo.processInfo.processorCount) cores, \(os)", threads: threads,
            repeats: repeats, layers: rows, total: total,
            fpgaThroughputPerSecond: CycleModel.throughputPerSecond(program, clockMHz: clockMHz),
            cpuThroughputPerSecond: (1e6 / oneTotal).rounded(),
            method: "FPGA: cycle model (equal to Verilator) at the clock. CPU: the bit-exact Swift reference engine on one seeded vector, batch 1, 3 warm-up runs then the median of \(repeats); all threads splits each layer's outputs across \(threads) threads; \(build).")
    }

    /// `report.md`.
    public var markdown: String {
        var s = "# LUTForge report\n\n"
        s += "FPGA: \(device) at \(String(format: "%g", clockMhz)) MHz (cycle model). CPU: Swift reference engine on this machine (\(cpu)), batch 1.\n\n"
        s += "| layer | FPGA cycles | FPGA µs | CPU µs (1 thread) | CPU µs (\(threads) threads) | CPU / FPGA |\n|---|---:|---:|---:|---:|---:|\n"
        for r in layers + [total] {
            let name = r.name == "total" ? "**total**" : r.name
            s += "| \(name) | \(r.fpgaCycles) | \(f(r.fpgaUs)) | \(f(r.cpuUs)) | \(f(r.cpuAllThreadsUs)) | \(String(format: "%.2f×", r.speedup)) |\n"
        }
        s += "\nStreaming throughput: FPGA \(Int(fpgaThroughputPerSecond)) inferences/s, CPU \(Int(cpuThroughputPerSecond)) inferences/s (one thread).\n\n"
        s += method + "\n"
        return s
    }

    /// One-paragraph summary for the terminal.
    public var summary: String {
        "FPGA \(device) @ \(String(format: "%g", clockMhz)) MHz: \(f(total.fpgaUs)) µs per inference, \(Int(fpgaThroughputPerSecond)) inferences/s streamed; "
            + "CPU (Swift engine, 1 thread): \(f(total.cpuUs)) µs; CPU / FPGA = \(String(format: "%.2f", total.speedup))×"
    }

    private func f(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : v >= 10 ? String(format: "%.1f", v) : String(format: "%.2f", v) }

    /// `report.svg`: per layer and in total, horizontal bars of FPGA and CPU µs on a shared log scale.
    public var svg: String {
        let rows = layers + [total]
        let values = rows.flatMap { [$0.fpgaUs, $0.cpuUs, $0.cpuAllThreadsUs] }.filter { $0 > 0 }
        let lo = pow(10, floor(log10(values.min() ?? 1))), hi = pow(10, ceil(log10(values.max() ?? 10)))
        let left = 110.0, width = 520.0, barH = 12.0, groupH = 3 * barH + 14, top = 50.0
        let height = top + Double(rows.count) * groupH + 50
        func x(_ v: Double) -> Double { left + width * (log10(max(v, lo)) - log10(lo)) / max(log10(hi) - log10(lo), 1e-9) }
        func esc(_ t: String) -> String {
            t.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        }
        let series: [(String, String, KeyPath<PerformanceRow, Double>)] = [
            ("FPGA model", "#1f77b4", \.fpgaUs), ("CPU, 1 thread", "#ff7f0e", \.cpuUs), ("CPU, \(threads) threads", "#2ca02c", \.cpuAllThreadsUs),
        ]
        var s = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(left + width + 90))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <title>LUTForge: FPGA model vs CPU per layer (µs, log scale)</title>
        <text x="10" y="18" font-size="14">\(esc("Latency per layer, µs (log scale): \(device) at \(String(format: "%g", clockMhz)) MHz vs Swift engine"))</text>

        """
        for (i, (label, color, _)) in series.enumerated() {
            s += "<rect x=\"\(Int(left) + i * 170)\" y=\"28\" width=\"10\" height=\"10\" fill=\"\(color)\"/><text x=\"\(Int(left) + i * 170 + 14)\" y=\"37\">\(esc(label))</text>\n"
        }
        var decade = lo
        while decade <= hi * 1.0001 {
            let gx = String(format: "%.1f", x(decade))
            s += "<line x1=\"\(gx)\" y1=\"\(Int(top) - 4)\" x2=\"\(gx)\" y2=\"\(Int(height) - 40)\" stroke=\"#ccc\"/>"
            s += "<text x=\"\(gx)\" y=\"\(Int(height) - 26)\" text-anchor=\"middle\">\(esc(String(format: "%g", decade)))</text>\n"
            decade *= 10
        }
        for (r, row) in rows.enumerated() {
            let y0 = top + Double(r) * groupH
            s += "<text x=\"\(Int(left) - 6)\" y=\"\(String(format: "%.1f", y0 + 1.5 * barH + 4))\" text-anchor=\"end\">\(esc(row.name))</text>\n"
            for (i, (_, color, key)) in series.enumerated() {
                let v = row[keyPath: key], y = y0 + Double(i) * barH
                s += "<rect x=\"\(Int(left))\" y=\"\(String(format: "%.1f", y))\" width=\"\(String(format: "%.1f", max(x(v) - left, 1)))\" height=\"\(Int(barH) - 2)\" fill=\"\(color)\"/>"
                s += "<text x=\"\(String(format: "%.1f", max(x(v), left + 1) + 3))\" y=\"\(String(format: "%.1f", y + barH - 3))\">\(esc(f(v)))</text>\n"
            }
        }
        s += "<text x=\"\(Int(left + width / 2))\" y=\"\(Int(height) - 8)\" text-anchor=\"middle\">µs per inference (batch 1)</text>\n</svg>\n"
        return s
    }
}
