// The sliding-window generator: a feature map streamed position by position
// (channels-last) in, the window of every output position out, as one frame each,
// for the linear kernel of a convolution or a pool to consume. A line buffer of
// (kh − 1)·dh + 1 rows holds what the next windows need; padding positions read as
// `padValue` (the input's zero point for a convolution, the type's minimum for a max
// pool). RTL: RTL/lf_sliding_window.v; HLS: HLS/lutforge/sliding_window.h.

/// Windows of an `[H, W, C]` map (1-D maps have `H = 1`, `kh = 1`).
///
/// Window `(oy, ox)` element `(ky, kx, c)` is the input at row `oy·sh − padTop + ky·dh`,
/// column `ox·sw − padLeft + kx·dw`, channel `c`, or `padValue` outside the map. Elements are
/// emitted `ky`, `kx`, `c` (channel fastest); with `groups > 1` group by group,
/// `(g, ky, kx, c mod C/groups)`, so each group's window is contiguous.
public struct SlidingWindowKernel: KernelDefinition {
    public static let kind = "sliding-window"
    public static let summary = "line-buffered window generator: one frame per output position"

    public var inputType: TensorType
    public var outputType: TensorType
    public var height: Int
    public var width: Int
    public var channels: Int
    public var kernelHeight: Int
    public var kernelWidth: Int
    public var strideHeight: Int
    public var strideWidth: Int
    public var dilationHeight: Int
    public var dilationWidth: Int
    public var padTop: Int
    public var padLeft: Int
    public var outHeight: Int
    public var outWidth: Int
    /// The integer read at padding positions.
    public var padValue: Int
    /// Channel groups (grouped and depthwise convolutions): the window is emitted group by group.
    public var groups: Int

    /// Creates a window generator; `inputType` is the `[H, W, C]` map (`[W, C]` for a 1-D one, `oneD`).
    public init(inputType: TensorType, height: Int, width: Int, channels: Int, kernel: (Int, Int), stride: (Int, Int),
                dilation: (Int, Int), padTop: Int, padLeft: Int, out: (Int, Int), padValue: Int, groups: Int = 1, oneD: Bool = false) {
        self.inputType = inputType
        self.height = height
        self.width = width
        self.channels = channels
        (kernelHeight, kernelWidth) = kernel
        (strideHeight, strideWidth) = stride
        (dilationHeight, dilationWidth) = dilation
        self.padTop = padTop
        self.padLeft = padLeft
        (outHeight, outWidth) = out
        self.padValue = padValue
        self.groups = groups
        let positions = oneD ? [out.1] : [out.0, out.1]
        outputType = .map(inputType.element, positions: positions, channels: kernel.0 * kernel.1 * channels, quant: inputType.quant)
    }

    public var inputTypes: [TensorType] { [inputType] }
    /// Elements per window.
    public var windowSize: Int { kernelHeight * kernelWidth * channels }
    /// Rows of the line buffer.
    public var bufferRows: Int { (kernelHeight - 1) * dilationHeight + 1 }
    /// Channels per group.
    public var groupChannels: Int { channels / groups }

    /// The input position (row, column) and channel of element `e` of window `(oy, ox)`, nil in the padding.
    @inline(__always)
    public func source(_ oy: Int, _ ox: Int, _ e: Int) -> (row: Int, column: Int, channel: Int)? {
        let ky: Int, kx: Int, c: Int
        if groups == 1 {
            c = e % channels
            kx = (e / channels) % kernelWidth
            ky = e / (channels * kernelWidth)
        } else {
            let perGroup = kernelHeight * kernelWidth * groupChannels
            let g = e / perGroup, r = e % perGroup
            c = g * groupChannels + r % groupChannels
            kx = (r / groupChannels) % kernelWidth
            ky = r / (groupChannels * kernelWidth)
        }
        let row = oy * strideHeight - padTop + ky * dilationHeight, column = ox * strideWidth - padLeft + kx * dilationWidth
        guard row >= 0, row < height, column >= 0, column < width else { return nil }
        return (row, column, c)
    }

    /// Input beats window `(oy, ox)` needs loaded (its need-table entries: `nr + nc − C`, 0 for
    /// a window wholly in the padding).
    public func needBeats(_ nr: Int, _ nc: Int) -> Int { nr == 0 || nc == 0 ? 0 : nr + nc - channels }

    /// `RTL/lf_sliding_window.v`: for each window in raster order, load the positions it still
    /// needs (channels of each), then emit it from the line buffer (the cycle after the last
    /// load); after the last window, load what remains of the map.
    public var schedule: KernelSchedule {
        var steps: [ScheduleStep] = []
        var loaded = 0
        let rows = needRows, columns = needColumns
        for nr in rows {
            for nc in columns {
                let n = max(needBeats(nr, nc), loaded)
                steps.append(ScheduleStep(load: [n - loaded], busy: 0, emit: windowSize))
                loaded = n
            }
        }
        let all = height * width * channels
        if loaded < all { steps.append(ScheduleStep(load: [all - loaded], busy: 0, emit: 0)) }
        return .scripted(steps)
    }

    public func check(node: String) throws {
        func need(_ ok: Bool, _ why: String) throws { if !ok { throw ProgramError(at: "node '\(node)'", reason: why) } }
        try need(inputType.count == height * width * channels && inputType.frameSize == channels, "input is not a \(height)x\(width)x\(channels) map")
        try need(outputType.count == outHeight * outWidth * windowSize && outputType.frameSize == windowSize, "output is not one window per position")
        try need([kernelHeight, kernelWidth, strideHeight, strideWidth, dilationHeight, dilationWidth, groups].allSatisfy { $0 >= 1 }
                 && padTop >= 0 && padLeft >= 0, "geometry out of range")
        try need(channels % groups == 0, "\(groups) groups do not divide \(channels) channels")
        try need(inputType.element.contains(padValue), "pad value \(padValue) is not an \(inputType.element)")
        // Every window lies within the padded map, and a window never needs a row the buffer has dropped.
        try need((outHeight - 1) * strideHeight - padTop < height && (outWidth - 1) * strideWidth - padLeft < width, "a window starts beyond the map")
    }

    public func dumpLines() -> [String] {
        ["map \(height)x\(width)x\(channels) window \(kernelHeight)x\(kernelWidth) stride \(strideHeight)x\(strideWidth) dilation \(dilationHeight)x\(dilationWidth)"
            + " pad top \(padTop) left \(padLeft) -> \(outHeight)x\(outWidth) pad value \(padValue)" + (groups > 1 ? " groups \(groups)" : "")
            + ", line buffer \(bufferRows) rows"]
    }

    /// The need table of window rows: per `oy`, (the last map row the window covers · W + 1) · C,
    /// 0 when it covers none. With `needColumns`, a window needs `nr + nc − C` beats loaded
    /// (0 when either is 0). RTL/lf_sliding_window.v and HLS/lutforge/sliding_window.h read them.
    public var needRows: [Int] {
        (0..<outHeight).map { oy in
            let rows = (0..<kernelHeight).map { oy * strideHeight - padTop + $0 * dilationHeight }.filter { $0 >= 0 && $0 < height }
            return rows.last.map { ($0 * width + 1) * channels } ?? 0
        }
    }

    /// The need table of window columns: per `ox`, (the last map column covered + 1) · C, 0 for none.
    public var needColumns: [Int] {
        (0..<outWidth).map { ox in
            let columns = (0..<kernelWidth).map { ox * strideWidth - padLeft + $0 * dilationWidth }.filter { $0 >= 0 && $0 < width }
            return columns.last.map { ($0 + 1) * channels } ?? 0
        }
    }

    /// Bits of a need-table entry.
    public var needBits: Int { Arith.indexBits(height * width * channels + channels + 1) }

    /// The need tables `nr` and `nc` (`needRows`, `needColumns`).
    public var memories: [MemoryImage] {
        var nr = MemoryImage(suffix: "nr", width: needBits), nc = MemoryImage(suffix: "nc", width: needBits)
        for v in needRows { nr.append([(v, needBits)]) }
        for v in needColumns { nc.append([(v, needBits)]) }
        return [nr, nc]
    }
}
