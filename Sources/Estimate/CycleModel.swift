// The cycle model: latency and initiation interval per kernel and for the whole
// design, composed from the kernel schedules in HardwareIR (which the RTL
// follows cycle for cycle; the tests compare both with Verilator).
import HardwareIR

/// Cycles of one kernel.
public struct KernelCycles: Codable, Sendable, Equatable {
    /// Kernel name.
    public var name: String
    /// This kernel's share of the design latency: its search, compute, drain and emit
    /// (plus the input load for the first kernel). The shares add up to the design latency.
    public var latencyCycles: Int
    /// Cycles the kernel is busy per inference (load to last emit); the largest is the design's interval.
    public var occupancyCycles: Int
}

/// Latency and interval of a program.
public enum CycleModel {
    /// Per-kernel cycles.
    public static func kernels(_ program: Program) -> [KernelCycles] {
        zip(program.kernels, program.kernelLatencyCycles).map { k, latency in
            KernelCycles(name: k.name, latencyCycles: latency, occupancyCycles: k.schedule.occupancyCycles)
        }
    }

    /// Inferences per second streamed at `clockMHz` (`clock / interval`).
    public static func throughputPerSecond(_ program: Program, clockMHz: Double) -> Double {
        (clockMHz * 1e6 / Double(max(program.initiationIntervalCycles, 1))).rounded()
    }

}
