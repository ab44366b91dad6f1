// Where Yosys puts a kernel's read-only memories on Xilinx 7-series: block RAM or
// logic. This follows the cost rules of Yosys 0.23 `memory_libmap` as
// `synth_xilinx -family xc7` runs it (techlibs/xilinx/brams_xc4v.txt with
// HAS_SIZE_36, HAS_CASCADE, HAS_CONFLICT_BUG, HAS_MIXWIDTH_SDP and
// -logic-cost-rom 1/64), so the block RAM count is predicted, not fitted.
import HardwareIR

/// How one read-only memory is implemented.
public struct MemoryPlacement: Codable, Sendable, Equatable {
    /// Image suffix (`w`, `tab0`, …).
    public var memory: String
    /// Words.
    public var depth: Int
    /// Bits per word in the image.
    public var width: Int
    /// Bits that are not the same in every word; synthesis keeps only these.
    public var liveWidth: Int
    /// Instances in the RTL.
    public var copies: Int
    /// `RAMB18E1`, `RAMB36E1`, `RAMB36E1 cascade`, `logic`, or `constant` (no live bits).
    public var primitive: String
    /// Primitives per instance.
    public var blocks: Int
    /// 18 Kb block RAM halves of all instances.
    public var bram18: Int
    /// LUTs of all instances: the memory itself when in logic, else the read mux of a depth split.
    public var luts: Int
    /// Flip-flops of all instances (the registered read of a logic memory).
    public var flipFlops: Int
}

/// The Yosys 0.23 xc7 memory mapper, for ROMs with one registered read port.
public enum XC7MemoryMapper {
    /// One block RAM geometry of brams_xc4v.txt.
    struct Geometry {
        var primitive: String
        var addressBits: Int
        var widths: [Int]
        /// Indices into `widths` a read port may use.
        var readWidths: ClosedRange<Int>
        var cost: Double
        var halves: Int
    }

    /// In library order: true dual port (HALF, FULL, CASCADE), then simple dual port (HALF, FULL).
    static let geometries: [Geometry] = [
        Geometry(primitive: "RAMB18E1", addressBits: 14, widths: [1, 2, 4, 9, 18], readWidths: 0...4, cost: 129, halves: 1),
        Geometry(primitive: "RAMB36E1", addressBits: 15, widths: [1, 2, 4, 9, 18, 36], readWidths: 0...5, cost: 257, halves: 2),
        Geometry(primitive: "RAMB36E1 cascade", addressBits: 16, widths: [1, 2, 4, 9], readWidths: 0...0, cost: 513, halves: 4),
        Geometry(primitive: "RAMB18E1", addressBits: 14, widths: [1, 2, 4, 9, 18, 36], readWidths: 0...5, cost: 129, halves: 1),
        Geometry(primitive: "RAMB36E1", addressBits: 15, widths: [1, 2, 4, 9, 18, 36, 72], readWidths: 0...6, cost: 257, halves: 2),
    ]
    /// Cost Yosys charges per bit of a ROM built from logic.
    static let logicCostPerBit = 1.0 / 64
    /// Emulation score of our ROM's read port (one unshared read port), times FACTOR_EMU.
    static let emulationCost = 2.0
    /// FACTOR_MUX: cost per output bit per extra word-range a depth split has to multiplex.
    static let muxCost = 0.5

    /// Placement of `image`.
    public static func place(_ image: MemoryImage) -> MemoryPlacement {
        let depth = image.depth, live = image.liveWidth
        var placement = MemoryPlacement(memory: image.suffix, depth: depth, width: image.width, liveWidth: live,
                                        copies: image.copies, primitive: "constant", blocks: 0, bram18: 0, luts: 0, flipFlops: 0)
        guard live > 0, depth > 0 else { return placement }
        // The logic fallback wins unless a block RAM configuration is strictly cheaper
        // than its cost truncated to an integer (as memory_libmap compares them).
        var best = Double(Int(Double(depth * live) * logicCostPerBit))
        var chosen: (Geometry, Int, Int)?
        for g in geometries {
            for index in g.readWidths {
                let wordsPerBlock = 1 << (g.addressBits - index)
                let ranges = (depth - 1) / wordsPerBlock + 1
                let blocks = (ranges * live + g.widths[index] - 1) / g.widths[index]
                let cost = g.cost * Double(blocks) + muxCost * Double((ranges - 1) * live) + emulationCost
                if cost < best {
                    best = cost
                    chosen = (g, blocks, ranges)
                }
            }
        }
        if let (g, blocks, ranges) = chosen {
            placement.primitive = g.primitive
            placement.blocks = blocks
            placement.bram18 = blocks * g.halves * image.copies
            // Words split across blocks by depth come back through a ranges:1 mux per bit (about a LUT per 3 ranges, measured).
            placement.luts = ranges > 1 ? live * ((ranges + 2) / 3) * image.copies : 0
        } else {
            placement.primitive = "logic"
            placement.luts = logicLUTs(depth: depth, width: image.distinctLiveColumns) * image.copies
            placement.flipFlops = live * image.copies
        }
        return placement
    }

    /// LUT6s of a ROM in logic with arbitrary contents: per output bit one LUT6 per 64
    /// words (MUXF7/MUXF8 combine up to four), plus one LUT per further group of 256 words.
    static func logicLUTs(depth: Int, width: Int) -> Int {
        let perBit = depth <= 64 ? 1 : (depth + 63) / 64 + max(0, (depth + 255) / 256 - 1)
        return perBit * width
    }
}
