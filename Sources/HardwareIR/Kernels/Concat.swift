// The concat kernel: frames of one element type and scale, one after another.
/// Concatenation of streams of one element type along the innermost axis.
/// RTL: RTL/lf_concat.v; HLS: HLS/lutforge/concat.h.
public struct ConcatKernel: KernelDefinition {
    public static let kind = "concat"
    public static let summary = "the input frames one after another, one element type and scale"

    public var inputTypes: [TensorType]
    public var outputType: TensorType

    /// A concatenation of `inputTypes`, which must share element type, quantization and frames
    /// (of feature maps: along the channels, frame by frame).
    public init(inputTypes: [TensorType]) {
        self.inputTypes = inputTypes
        let first = inputTypes[0]
        let channels = inputTypes.reduce(0) { $0 + $1.frameSize }
        outputType = TensorType(element: first.element, shape: first.framesPerInference > 1 ? Array(first.shape.dropLast()) + [channels] : [channels],
                                quant: first.quant, framesPerInference: first.framesPerInference)
    }

    /// `RTL/lf_concat.v` stores each port's frame at its offset; the frame is offered the cycle after the last beat.
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: inputTypes.map(\.frameSize), computeCycles: 0, drainCycles: 0, outputBeats: outputType.frameSize,
                       frames: outputType.framesPerInference)
    }

    public func check(node: String) throws {
        let e = inputTypes[0].element, q = inputTypes[0].quant, f = inputTypes[0].framesPerInference
        guard inputTypes.count >= 2, inputTypes.allSatisfy({ $0.element == e && $0.quant == q && $0.framesPerInference == f }) else {
            throw ProgramError(at: "node '\(node)'", reason: "concat needs two or more inputs of one element type, quantization and frame count")
        }
    }

    public func dumpLines() -> [String] { ["segments [\(inputTypes.map { String($0.frameSize) }.joined(separator: " "))] per frame"] }
    public var memories: [MemoryImage] { [] }
}
