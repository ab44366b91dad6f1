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
        program.kernels.enumerated().map { i, k in
            let s = k.schedule
            return KernelCycles(name: k.name,
                                latencyCycles: (i == 0 ? s.loadCycles : 0) + s.searchCycles + s.computeCycles + s.drainCycles + s.emitCycles,
                                occupancyCycles: s.occupancyCycles)
        }
    }

    /// Cycles from the first input beat to the last output beat of one inference.
    public static func latency(_ program: Program) -> Int { program.latencyCycles }

    /// Cycles between successive inferences streamed back to back.
    public static func interval(_ program: Program) -> Int { program.initiationIntervalCycles }
}
