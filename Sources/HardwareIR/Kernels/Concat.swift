// The concat kernel: frames of one element type and scale, one after another.
/// Concatenation of streams of one element type along the innermost axis.
/// RTL: RTL/lf_concat.v; HLS: HLS/lutforge/concat.h.
public struct ConcatKernel: KernelDefinition {
    public static let kind = "concat"
    public static let summary = "the input frames one after another, one element type and scale"

    public var inputTypes: [TensorType]
    public var outputType: TensorType

    /// A concatenation of `inputTypes`, which must share element type and quantization.
    public init(inputTypes: [TensorType]) {
        self.inputTypes = inputTypes
        let first = inputTypes[0]
        outputType = .vector(first.element, inputTypes.reduce(0) { $0 + $1.count }, quant: first.quant)
    }

    /// `RTL/lf_concat.v` stores each port at its offset; the frame is offered the cycle after the last beat.
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: inputTypes.map(\.beats), computeCycles: 0, drainCycles: 0, outputBeats: outputType.beats)
    }

    public func check(node: String) throws {
        let e = inputTypes[0].element, q = inputTypes[0].quant
        guard inputTypes.count >= 2, inputTypes.allSatisfy({ $0.element == e && $0.quant == q }) else {
            throw ProgramError(at: "node '\(node)'", reason: "concat needs two or more inputs of one element type and quantization")
        }
    }

    public func dumpLines() -> [String] { ["segments [\(inputTypes.map { String($0.count) }.joined(separator: " "))]"] }
    public var memories: [MemoryImage] { [] }
}
