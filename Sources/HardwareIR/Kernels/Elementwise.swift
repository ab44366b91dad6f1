// The elementwise kernel: one or two streams combined element by element with a
// requantizer per input, `y = clamp((a·Ma + b·Mb + C) >> S)` per channel. A residual
// Add is the two-input case, a standalone requantizer or a scale by a constant the
// one-input case. RTL: RTL/lf_elementwise.v; HLS: HLS/lutforge/elementwise.h.

/// `y[i] = clamp((Σ_p x_p[i]·M_p[c] + C[c]) >> S[c], lo, hi)`, `c = i mod channels`.
public struct ElementwiseKernel: KernelDefinition {
    public static let kind = "elementwise"
    public static let summary = "one or two streams combined element by element, a requantizer per input"

    /// Types of the one or two input streams (same element count).
    public var inputTypes: [TensorType]
    /// Type of the output stream.
    public var outputType: TensorType
    /// Channels of the per-channel parameters.
    public var channels: Int
    /// Multipliers, `[inputs][channels]` (signed).
    @Blob public var multipliers: [Int]
    /// Offsets `C`, `[channels]`.
    @Blob public var offsets: [Int]
    /// Shifts `S`, `[channels]`.
    @Blob public var shifts: [Int]
    /// Type of a multiplier (signed).
    public var multiplier: IntType
    /// Type of an offset (signed).
    public var offset: IntType
    /// Type of a shift (unsigned).
    public var shift: IntType
    /// Type of `Σ x·M + C`, proven.
    public var scaled: IntType
    /// Round half to even after the offset instead of flooring.
    public var halfEven: Bool

    /// Creates a kernel.
    public init(inputTypes: [TensorType], outputType: TensorType, channels: Int, multipliers: [Int], offsets: [Int], shifts: [Int],
                multiplier: IntType, offset: IntType, shift: IntType, scaled: IntType, halfEven: Bool = false) {
        self.halfEven = halfEven
        self.inputTypes = inputTypes
        self.outputType = outputType
        self.channels = channels
        self.multipliers = multipliers
        self.offsets = offsets
        self.shifts = shifts
        self.multiplier = multiplier
        self.offset = offset
        self.shift = shift
        self.scaled = scaled
    }

    /// Elements per frame.
    public var count: Int { outputType.frameSize }
    /// Input ports.
    public var arity: Int { inputTypes.count }
    /// Multiplier of input `p` in channel `c`.
    public func multiplier(_ p: Int, _ c: Int) -> Int { multipliers[p * channels + c] }

    /// `Σ x_p·M_p + C` for the inputs `xs` of one element of channel `c`.
    @inline(__always)
    public func scaledValue(_ xs: [Int], channel c: Int) -> Int {
        var s = offsets[c]
        for (p, x) in xs.enumerated() { s += x * multiplier(p, c) }
        return s
    }

    /// The output for the inputs `xs` of one element of channel `c`.
    public func apply(_ xs: [Int], channel c: Int) -> Int {
        let t = outputType.element
        return Swift.min(Swift.max(Requantizer.shift(scaledValue(xs, channel: c), shifts[c], halfEven: halfEven), t.min), t.max)
    }

    /// `RTL/lf_elementwise.v`: after both frames are in, one element per cycle through
    /// operand read, multiply, sum and round-and-store (`count` issue cycles, 3 to drain).
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: inputTypes.map(\.frameSize), computeCycles: count, drainCycles: 3, outputBeats: count,
                       frames: outputType.framesPerInference)
    }

    public func check(node: String) throws {
        func need(_ ok: Bool, _ why: String) throws { if !ok { throw ProgramError(at: "node '\(node)'", reason: why) } }
        try need((1...2).contains(arity), "takes one or two inputs, not \(arity)")
        try need(inputTypes.allSatisfy { $0.frameSize == count && $0.framesPerInference == outputType.framesPerInference } && count % channels == 0,
                 "element counts do not match")
        try need(multipliers.count == arity * channels && offsets.count == channels && shifts.count == channels, "parameter arrays have the wrong size")
        try need(multipliers.allSatisfy(multiplier.contains) && offsets.allSatisfy(offset.contains) && shifts.allSatisfy(shift.contains),
                 "a parameter is outside its type")
        try need(outputType.element.kind != .bipolar, "cannot produce bipolar values")
        // Proven: the scaled sum stays in its type for every input.
        for c in 0..<channels {
            var lo = offsets[c], hi = offsets[c]
            for (p, t) in inputTypes.enumerated() {
                let m = multiplier(p, c), a = t.element.min * m, b = t.element.max * m
                lo += Swift.min(a, b)
                hi += Swift.max(a, b)
            }
            try need(scaled.contains(lo) && scaled.contains(hi), "channel \(c): scaled range \(lo)...\(hi) leaves \(scaled)")
        }
    }

    public func dumpLines() -> [String] {
        var out = ["inputs \(arity) channels \(channels) types m \(multiplier) c \(offset) s \(shift) scaled \(scaled) y \(outputType.storage)" + (halfEven ? " rounding half-even" : "")]
        for c in 0..<channels {
            out.append("channel \(c): m [\((0..<arity).map { String(multiplier($0, c)) }.joined(separator: " "))] c \(offsets[c]) s \(shifts[c])")
        }
        return out
    }

    /// Per channel one word `{C, S, M_(arity−1) … M_0}` (`e`).
    public var memories: [MemoryImage] {
        var e = MemoryImage(suffix: "e", width: arity * multiplier.bits + shift.bits + offset.bits)
        for c in 0..<channels {
            e.append((0..<arity).map { (multiplier($0, c), multiplier.bits) } + [(shifts[c], shift.bits), (offsets[c], offset.bits)])
        }
        return [e]
    }
}
