// The FIFO kernel: a buffer on a branch of the dataflow graph. RTL: RTL/lf_fifo.v;
// HLS: the identity (HLS/lutforge/pool.h, fifo_copy).

/// A FIFO on a branch: holds up to `depth` beats so that a fork's faster reader does not stall
/// the slower one (RTL: RTL/lf_fifo.v). Sized from the schedule (docs/numerics.md, "FIFOs").
public struct FIFOKernel: KernelDefinition {
    public static let kind = "fifo"
    public static let summary = "first-in first-out buffer on a branch, sized from the schedule"

    public var type: TensorType
    public var depth: Int

    public init(type: TensorType, depth: Int) {
        self.type = type
        self.depth = depth
    }

    public var inputTypes: [TensorType] { [type] }
    public var outputType: TensorType { type }
    public var schedule: KernelSchedule { .fifo(depth: depth) }

    public func check(node: String) throws {
        guard depth >= 1 else { throw ProgramError(at: "node '\(node)'", reason: "FIFO depth must be at least 1") }
    }

    public func dumpLines() -> [String] { ["depth \(depth)"] }
    public var memories: [MemoryImage] { [] }
}
