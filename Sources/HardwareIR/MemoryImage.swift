// The read-only memories of each kernel, word by word: the `.mem` images the
// Verilog emitter writes and the resource model maps to block RAM or logic.
// The layouts are documented in docs/formats.md (Table images).

/// One read-only memory of a kernel: `depth` words of `width` bits, each packed from
/// fields least significant first in two's complement of their widths.
public struct MemoryImage: Hashable, Sendable {
    /// File suffix (`w`, `b`, `q`, `t`, `c`, `tab0`, `o`, `m2`): the image is `<kernel>_<suffix>.mem`.
    public var suffix: String
    /// Bits per word.
    public var width: Int
    /// How many instances of this memory the RTL holds (an activation table is read by every lane).
    public var copies: Int
    /// The words, 64-bit limbs least significant first.
    public private(set) var words: [[UInt64]] = []

    /// An empty memory of `width`-bit words.
    public init(suffix: String, width: Int, copies: Int = 1) {
        precondition(width >= 1)
        self.suffix = suffix
        self.width = width
        self.copies = copies
    }

    /// Number of words.
    public var depth: Int { words.count }

    /// Appends a word packed from `fields`, whose widths must add up to `width`.
    public mutating func append(_ fields: [(value: Int, bits: Int)]) {
        var limbs = [UInt64](repeating: 0, count: (width + 63) / 64)
        var position = 0
        for (value, bits) in fields {
            for i in 0..<bits where (value >> min(i, Int.bitWidth - 1)) & 1 == 1 {
                limbs[(position + i) / 64] |= 1 << UInt64((position + i) % 64)
            }
            position += bits
        }
        precondition(position == width, "memory \(suffix): fields of \(position) bits in a \(width)-bit word")
        words.append(limbs)
    }

    /// Bit `i` of word `w`.
    public func bit(_ w: Int, _ i: Int) -> Bool { (words[w][i / 64] >> UInt64(i % 64)) & 1 == 1 }

    /// Bit columns that differ between words: the width left once synthesis replaces
    /// columns that hold the same value in every word by a constant.
    public var liveWidth: Int {
        guard let first = words.first else { return 0 }
        var differs = [UInt64](repeating: 0, count: first.count)
        for word in words.dropFirst() {
            for l in 0..<first.count { differs[l] |= word[l] ^ first[l] }
        }
        return differs.reduce(0) { $0 + $1.nonzeroBitCount }
    }

    /// Live bit columns that are not copies of another column: synthesis builds one LUT function per
    /// distinct column of a ROM in logic (a sign-extended field repeats its sign column).
    public var distinctLiveColumns: Int {
        guard let first = words.first else { return 0 }
        var seen: Set<[Bool]> = []
        for i in 0..<width {
            let column = words.map { ($0[i / 64] >> UInt64(i % 64)) & 1 == 1 }
            if column.contains(!(((first[i / 64] >> UInt64(i % 64)) & 1) == 1)) { seen.insert(column) }
        }
        return seen.count
    }

    /// `$readmemh` text: one word per line, `ceil(width/4)` hexadecimal digits.
    public var hexText: String {
        let digits = (width + 3) / 4
        var out = ""
        out.reserveCapacity(words.count * (digits + 1))
        let hex = Array("0123456789abcdef")
        for w in 0..<words.count {
            var line = [Character](repeating: "0", count: digits)
            for d in 0..<digits {
                var v = 0
                for b in 0..<4 where d * 4 + b < width && bit(w, d * 4 + b) { v |= 1 << b }
                line[digits - 1 - d] = hex[v]
            }
            out += String(line) + "\n"
        }
        return out
    }
}
