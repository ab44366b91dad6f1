// The threshold kernel (FINN's MultiThreshold): each element is compared with its
// channel's thresholds and the count of thresholds passed becomes the output level.
// Any monotone integer function, a quantizer after a batch norm with float32
// scales say, is one. RTL: RTL/lf_threshold.v; HLS: HLS/lutforge/threshold.h.

/// `y[i] = base + step · #{ t ∈ T[c] : x[i] ≥ t }` for an ascending channel `c = i mod channels`,
/// `#{ t : x[i] ≤ t }` for a descending one.
public struct ThresholdKernel: KernelDefinition {
    public static let kind = "threshold"
    public static let summary = "per-channel thresholds: the count of thresholds an element passes is its output level"

    /// Type of the input stream.
    public var inputType: TensorType
    /// Type of the output stream.
    public var outputType: TensorType
    /// Channels: element `i` uses the thresholds of channel `i mod channels`.
    public var channels: Int
    /// Thresholds per channel (levels − 1).
    public var thresholdCount: Int
    /// Type of a threshold value (signed, one bit wider than the input so "never" is representable).
    public var thresholdType: IntType
    /// Thresholds, `[channels][thresholdCount]`, ascending for ascending channels, descending otherwise.
    @Blob public var thresholds: [Int]
    /// Per channel: compare `x ≤ t` (a decreasing function) instead of `x ≥ t`.
    public var descending: [Bool]
    /// Output of level 0.
    public var base: Int
    /// Output step per level.
    public var step: Int

    /// Creates a kernel.
    public init(inputType: TensorType, outputType: TensorType, channels: Int, thresholdCount: Int, thresholdType: IntType,
                thresholds: [Int], descending: [Bool], base: Int, step: Int) {
        self.inputType = inputType
        self.outputType = outputType
        self.channels = channels
        self.thresholdCount = thresholdCount
        self.thresholdType = thresholdType
        self.thresholds = thresholds
        self.descending = descending
        self.base = base
        self.step = step
    }

    public var inputTypes: [TensorType] { [inputType] }
    /// Elements per frame.
    public var count: Int { inputType.frameSize }

    /// Threshold `j` of channel `c`.
    public func threshold(_ c: Int, _ j: Int) -> Int { thresholds[c * thresholdCount + j] }

    /// The output for element value `x` of channel `c` (a binary search: the row is sorted).
    public func apply(_ x: Int, channel c: Int) -> Int {
        base + step * Self.level(x, row: thresholds, from: c * thresholdCount, count: thresholdCount, descending: descending[c])
    }

    /// The count of thresholds `row[from ..< from + count]` that `x` passes: ascending rows count
    /// `t <= x`, descending rows `t >= x`; both are a prefix of the sorted row.
    @inline(__always)
    public static func level(_ x: Int, row: [Int], from: Int, count: Int, descending: Bool) -> Int {
        var lo = from, hi = from + count
        while lo < hi {
            let mid = (lo + hi) >> 1
            if descending ? x <= row[mid] : x >= row[mid] { lo = mid + 1 } else { hi = mid }
        }
        return lo - from
    }

    /// `RTL/lf_threshold.v` compares each element while it loads (ROM read, then compare and
    /// store), so one cycle after the last input beat the first output is offered.
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: [count], computeCycles: 0, drainCycles: 1, outputBeats: count, frames: inputType.framesPerInference)
    }

    public func check(node: String) throws {
        func need(_ ok: Bool, _ why: String) throws { if !ok { throw ProgramError(at: "node '\(node)'", reason: why) } }
        try need(inputType.count == outputType.count && inputType.framesPerInference == outputType.framesPerInference && channels >= 1
                 && count % channels == 0, "element counts do not match")
        try need(thresholds.count == channels * thresholdCount && descending.count == channels, "threshold arrays have the wrong size")
        try need(thresholds.allSatisfy(thresholdType.contains), "a threshold is outside \(thresholdType)")
        try need(thresholdType.bits > inputType.storage.bits, "thresholds must be wider than the input")
        try need(thresholdCount >= 1, "needs at least one threshold")
        for c in 0..<channels {
            let row = (0..<thresholdCount).map { threshold(c, $0) }
            try need(descending[c] ? zip(row, row.dropFirst()).allSatisfy { $0 >= $1 } : zip(row, row.dropFirst()).allSatisfy { $0 <= $1 },
                     "thresholds of channel \(c) are not sorted")
        }
        let lo = min(base, base + step * thresholdCount), hi = max(base, base + step * thresholdCount)
        try need(outputType.element.contains(base) || outputType.element.kind == .bipolar, "output levels leave \(outputType.element)")
        try need(outputType.element.contains(lo) && outputType.element.contains(hi), "output levels \(lo)...\(hi) leave \(outputType.element)")
    }

    public func dumpLines() -> [String] {
        var out = ["channels \(channels) thresholds \(thresholdCount) of \(thresholdType); y = \(base) + \(step)·level"]
        for c in 0..<channels {
            out.append("channel \(c) \(descending[c] ? "<=" : ">=") [\((0..<thresholdCount).map { String(threshold(c, $0)) }.joined(separator: " "))]")
        }
        return out
    }

    /// Per channel one word `{descending, T[c][thresholdCount−1] … T[c][0]}` (`th`).
    public var memories: [MemoryImage] {
        var th = MemoryImage(suffix: "th", width: thresholdCount * thresholdType.bits + 1)
        for c in 0..<channels {
            th.append((0..<thresholdCount).map { (threshold(c, $0), thresholdType.bits) } + [(descending[c] ? 1 : 0, 1)])
        }
        return [th]
    }
}
