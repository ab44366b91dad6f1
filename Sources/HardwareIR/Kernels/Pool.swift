// The pool kernel: each frame's elements reduced per channel (element `i` belongs to
// channel `i mod channels`) to their maximum or their exact sum. After a sliding
// window it is MaxPool or the sum of an AveragePool (a requantizer divides); over a
// whole map (one frame of H·W·C) it is a global pool. RTL: RTL/lf_pool.v; HLS:
// HLS/lutforge/pool.h.

/// `y[c] = max_j x[j·C + c]` or `Σ_j x[j·C + c]` over each frame of `C · window` elements.
public struct PoolKernel: KernelDefinition {
    public static let kind = "pool"
    public static let summary = "per-channel maximum or exact sum over each frame"

    public enum Reduction: String, Codable, Hashable, Sendable { case max, sum }

    public var inputType: TensorType
    public var outputType: TensorType
    public var channels: Int
    /// Elements per channel in a frame.
    public var window: Int
    public var reduction: Reduction

    /// A pool of `inputType` whose frames hold `window` elements per channel; `outputType` is
    /// `inputType`'s element (max) or the proven sum type (sum), one frame of `channels` per input frame.
    public init(inputType: TensorType, channels: Int, window: Int, reduction: Reduction, outputType: TensorType) {
        self.inputType = inputType
        self.channels = channels
        self.window = window
        self.reduction = reduction
        self.outputType = outputType
    }

    /// The type of the sum of `window` values of `element`.
    public static func sumType(_ element: ElementType, window: Int) -> ElementType {
        let lo = element.min * window, hi = element.max * window
        return lo >= 0 ? ElementType(IntType.unsignedFitting(max(hi, 1))!) : ElementType(Arith.signedType(lo, hi)!)
    }

    public var inputTypes: [TensorType] { [inputType] }
    /// Elements per input frame.
    public var frameSize: Int { channels * window }
    /// Frames per inference.
    public var frames: Int { inputType.count / frameSize }

    /// The reduction of one frame.
    public func apply(_ x: ArraySlice<Int>) -> [Int] {
        let base = x.startIndex
        return (0..<channels).map { c in
            var acc = x[base + c]
            for j in 1..<max(window, 1) {
                let v = x[base + j * channels + c]
                acc = reduction == .max ? Swift.max(acc, v) : acc + v
            }
            return acc
        }
    }

    /// `RTL/lf_pool.v` reduces while it loads; the channels are offered the cycle after the last beat.
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: [frameSize], computeCycles: 0, drainCycles: 0, outputBeats: channels, frames: frames)
    }

    public func check(node: String) throws {
        func need(_ ok: Bool, _ why: String) throws { if !ok { throw ProgramError(at: "node '\(node)'", reason: why) } }
        try need(channels >= 1 && window >= 1 && inputType.count % frameSize == 0, "input is not frames of \(window) x \(channels)")
        try need(outputType.count == frames * channels && outputType.frameSize == channels, "output is not \(channels) per frame")
        switch reduction {
        case .max: try need(outputType.element == inputType.element, "a max pool keeps its element type")
        case .sum:
            let t = Self.sumType(inputType.element, window: window)
            try need(outputType.element.min <= t.min && outputType.element.max >= t.max, "the sum type \(outputType.element) cannot hold \(t)")
        }
    }

    public func dumpLines() -> [String] { ["\(reduction.rawValue) over \(window) per channel, \(channels) channels, \(frames) frame(s)"] }
    public var memories: [MemoryImage] { [] }
}
