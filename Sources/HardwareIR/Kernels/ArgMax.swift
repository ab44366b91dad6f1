// The argmax kernel: the index of the largest element of a frame, ties to the
// lowest index (ONNX ArgMax with select_last_index = 0, TopK with k = 1).
// RTL: RTL/lf_argmax.v; HLS: HLS/lutforge/argmax.h.

/// `y = min { i : x[i] = max x }`.
public struct ArgMaxKernel: KernelDefinition {
    public static let kind = "argmax"
    public static let summary = "index of the largest element, ties to the lowest index"

    /// Type of the input stream.
    public var inputType: TensorType
    /// Type of the output stream: one unsigned index.
    public var outputType: TensorType

    /// An argmax over `inputType`.
    public init(inputType: TensorType) {
        self.inputType = inputType
        outputType = .vector(.uint(Arith.indexBits(inputType.count)), 1)
    }

    public var inputTypes: [TensorType] { [inputType] }

    /// `RTL/lf_argmax.v` keeps the running maximum while it loads; the index is offered the cycle after the last beat.
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: [inputType.beats], computeCycles: 0, drainCycles: 0, outputBeats: 1)
    }

    public func check(node: String) throws {
        guard outputType == .vector(.uint(Arith.indexBits(inputType.count)), 1) else {
            throw ProgramError(at: "node '\(node)'", reason: "argmax output must be one u\(Arith.indexBits(inputType.count)) index")
        }
    }

    public func dumpLines() -> [String] { ["ties to the lowest index"] }
    public var memories: [MemoryImage] { [] }
}
