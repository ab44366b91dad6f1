// The cycle model: latency and initiation interval per kernel and for the whole
// design, composed from the kernel schedules in HardwareIR by replaying the
// dataflow handshakes (Program.timing(), which the RTL follows cycle for cycle;
// the tests compare both with Verilator and Icarus).
import HardwareIR

/// Cycles of one kernel.
public struct KernelCycles: Codable, Sendable, Equatable {
    /// Node name.
    public var name: String
    /// This kernel's share of the design latency along the critical path (0 off it);
    /// the shares add up to the design latency.
    public var latencyCycles: Int
    /// Cycles the kernel is busy per inference when never stalled (load, compute, emit).
    public var occupancyCycles: Int
}

/// Latency and interval of a program.
public enum CycleModel {
    /// Per-node cycles.
    public static func kernels(_ program: Program) -> [KernelCycles] {
        let shares = (try? program.timing())?.latencyShares ?? program.nodes.map { _ in 0 }
        return zip(program.nodes, shares).map { node, latency in
            KernelCycles(name: node.name, latencyCycles: latency, occupancyCycles: node.schedule.occupancyCycles)
        }
    }

    /// Inferences per second streamed at `clockMHz` (`clock / interval`).
    public static func throughputPerSecond(_ program: Program, clockMHz: Double) -> Double {
        (clockMHz * 1e6 / Double(max(program.initiationIntervalCycles, 1))).rounded()
    }
}
