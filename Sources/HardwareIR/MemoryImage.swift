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

extension Kernel {
    /// Every read-only memory of the kernel, in RTL order.
    public var memories: [MemoryImage] {
        switch self {
        case let .dsp(k): k.memories
        case let .lut(k): k.memories
        }
    }
}

extension ActivationTable {
    /// The table image (`t`), one copy per lane that reads it.
    func image(copies: Int) -> MemoryImage {
        var t = MemoryImage(suffix: "t", width: output.bits, copies: copies)
        for v in values { t.append([(v, output.bits)]) }
        return t
    }
}

extension DSPKernel {
    /// (value, offset) pairs (`w`), biases (`b`), requantizers (`q`: `{M, S}`) and the activation table (`t`).
    public var memories: [MemoryImage] {
        let chain = chainLength
        func output(_ p: Int, _ lane: Int) -> Int? {
            let n = p * lanes + lane
            return n < outputCount ? n : nil
        }
        var w = MemoryImage(suffix: "w", width: lanes * chain * (weight.bits + offsetBits))
        var b = MemoryImage(suffix: "b", width: lanes * bias.bits)
        var q = MemoryImage(suffix: "q", width: lanes * (shift.bits + multiplier.bits))
        for p in 0..<passes {
            for t in 0..<cyclesPerPass {
                w.append((0..<lanes).flatMap { lane in (0..<chain).flatMap { i -> [(value: Int, bits: Int)] in
                    let block = t * blocksPerCycle + i / kept
                    guard let n = output(p, lane), block < blocks else { return [(0, weight.bits), (0, offsetBits)] }
                    let pair = pair(output: n, block: block, i % kept)
                    return [(pair.value, weight.bits), (pair.offset, offsetBits)]
                } })
            }
            b.append((0..<lanes).map { l in (output(p, l).map { biases[$0] } ?? 0, bias.bits) })
            q.append((0..<lanes).flatMap { l -> [(value: Int, bits: Int)] in
                let r = output(p, l).map { requantizers[$0] } ?? Requantizer(multiplier: 0, shift: 1)
                return [(r.shift, shift.bits), (r.multiplier, multiplier.bits)]
            })
        }
        return [w, b, q] + (table.map { [$0.image(copies: lanes)] } ?? [])
    }
}

extension LUTKernel {
    /// Centroids (`c`), codes (`w`), biases (`b`), requantizers (`q`: `{L, S}`), outlier pairs
    /// (`o`) and multipliers (`m2`), one table memory per position lane (`tab0`, …) and the activation table (`t`).
    public var memories: [MemoryImage] {
        let sl = searchLanes, cl = columnLanes, pl = positionLanes, ka = activationCentroids
        var c = MemoryImage(suffix: "c", width: sl * vectorLength * input.bits)
        var w = MemoryImage(suffix: "w", width: pl * cl * codeBits)
        var b = MemoryImage(suffix: "b", width: cl * bias.bits)
        var q = MemoryImage(suffix: "q", width: cl * (shift.bits + multiplierShift.bits))
        for p in 0..<positions {
            for j in 0..<searchBlocks {
                c.append((0..<sl).flatMap { s in (0..<vectorLength).map { e -> (value: Int, bits: Int) in
                    let kk = j * sl + s
                    return (kk < ka ? centroid(p, kk, e) : 0, input.bits)
                } })
            }
        }
        for pass in 0..<passes {
            for pb in 0..<positionBlocks {
                w.append((0..<pl).flatMap { lane in (0..<cl).map { col -> (value: Int, bits: Int) in
                    let n = pass * cl + col, p = pb * pl + lane
                    return (n < outputCount && p < positions ? code(p, n) : 0, codeBits)
                } })
            }
            b.append((0..<cl).map { col in
                let n = pass * cl + col
                return (n < outputCount ? biases[n] : 0, bias.bits)
            })
            q.append((0..<cl).flatMap { col -> [(value: Int, bits: Int)] in
                let n = pass * cl + col
                guard n < outputCount else { return [(0, shift.bits), (0, multiplierShift.bits)] }
                return [(requantizers[n].shift, shift.bits), (multiplierShift(n), multiplierShift.bits)]
            })
        }
        var images = [c, w, b, q]
        if let o = outliers {
            var pairs = MemoryImage(suffix: "o", width: cl * o.lanes * (o.weight.bits + outlierIndexBits))
            var m2 = MemoryImage(suffix: "m2", width: cl * o.multiplier.bits)
            for pass in 0..<passes {
                for cycle in 0..<o.cycles {
                    pairs.append((0..<cl).flatMap { col in (0..<o.lanes).flatMap { j -> [(value: Int, bits: Int)] in
                        let n = pass * cl + col, slot = cycle * o.lanes + j
                        guard n < outputCount, slot < o.count else { return [(0, o.weight.bits), (0, outlierIndexBits)] }
                        return [(o.values[n * o.count + slot], o.weight.bits), (o.indices[n * o.count + slot], outlierIndexBits)]
                    } })
                }
                m2.append((0..<cl).map { col in
                    let n = pass * cl + col
                    return (n < outputCount ? o.multipliers[n] : 0, o.multiplier.bits)
                })
            }
            images += [pairs, m2]
        }
        for lane in 0..<pl {
            var rows = MemoryImage(suffix: "tab\(lane)", width: weightCentroids * entry.bits)
            for pb in 0..<positionBlocks {
                let p = pb * pl + lane
                for g in 0..<groups {
                    for kk in 0..<ka {
                        rows.append((0..<weightCentroids).map { (p < positions ? entry(p, g, kk, $0) : 0, entry.bits) })
                    }
                }
            }
            images.append(rows)
        }
        return images + (table.map { [$0.image(copies: cl)] } ?? [])
    }
}
