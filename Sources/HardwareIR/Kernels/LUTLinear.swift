// The LUT-based vector-quantized linear kernel (after LUT-LLM): nearest-centroid
// search over the activations, then 2-D table lookups and additions; no multiplier.
// RTL: RTL/lf_lut_linear.v; HLS: HLS/lutforge/lut_linear.h.

/// How a sub-vector's distance to a centroid is measured.
public enum Distance: String, Codable, Hashable, Sendable, CaseIterable {
    /// L∞: `max_j |x_j − c_j|` (LUT-LLM's choice; adders and comparators only).
    case linf
    /// Squared L2: `Σ_j (x_j − c_j)²`.
    case l2
}

/// The outlier weights of a dense-and-sparse LUT layer (after SqueezeLLM): a few
/// weights kept exactly in int8 on a sparse multiply-add chain beside the tables.
public struct OutlierChain: Codable, Hashable, Sendable {
    /// Stored (value, index) pairs per output column (rows with fewer are zero-padded).
    public var count: Int
    /// Multiply-adds per column lane per cycle.
    public var lanes: Int
    /// Values, `[outputCount][count]`.
    @Blob public var values: [Int]
    /// Input indices, `[outputCount][count]`, each in `0..<inputCount`.
    @Blob public var indices: [Int]
    /// Weight type.
    public var weight: IntType
    /// Accumulator type of `Σ value · x[index]`, proven.
    public var accumulator: IntType
    /// Per-column multiplier `M2` of the outlier accumulator in the requantizer.
    public var multipliers: [Int]
    /// Type of `M2` (unsigned).
    public var multiplier: IntType

    /// Creates a chain; Lowering is the only producer.
    public init(count: Int, lanes: Int, values: [Int], indices: [Int], weight: IntType, accumulator: IntType,
                multipliers: [Int], multiplier: IntType) {
        self.count = count
        self.lanes = lanes
        self.values = values
        self.indices = indices
        self.weight = weight
        self.accumulator = accumulator
        self.multipliers = multipliers
        self.multiplier = multiplier
    }

    /// Cycles per pass: `ceil(count / lanes)`.
    public var cycles: Int { Arith.ceilDiv(count, lanes) }
}

/// A LUT-linear layer with its codebooks, tables and proven widths.
///
/// Input `x` (zero-padded to `positions · vectorLength`) is split into positions of
/// `vectorLength` elements; each picks its nearest activation centroid `a_p`; output
/// column `n` in group `g = n / groupColumns` accumulates `T[p][g][a_p][code[p][n]]`,
/// then `y[n] = clamp((acc·2^L + C) >> S)` (plus `acc_outlier·M2` with outliers).
public struct LUTKernel: KernelDefinition {
    public static let kind = "lut-linear"
    public static let summary = "vector-quantized linear layer: centroid search, table lookups and additions, no multiplier"

    /// Input vector length (before padding).
    public var inputCount: Int
    /// Output vector length.
    public var outputCount: Int
    /// Type of the input stream; centroids have its element type.
    public var inputType: TensorType
    /// Type of the output stream.
    public var outputType: TensorType
    /// Elements per position, `v`.
    public var vectorLength: Int
    /// Activation centroids per position, `Ka`.
    public var activationCentroids: Int
    /// Weight centroids per (position, group), `Kw`.
    public var weightCentroids: Int
    /// Columns per group, `S` (a multiple of `columnLanes`).
    public var groupColumns: Int
    /// Distance of the centroid search.
    public var distance: Distance
    /// Type of a distance value (unsigned), proven.
    public var distanceType: IntType
    /// Activation centroids, `[positions][Ka][v]`.
    @Blob public var centroids: [Int]
    /// Weight codes, `[positions][outputCount]`, each in `0..<Kw`.
    @Blob public var codes: [Int]
    /// Table entry type (signed `tbits`).
    public var entry: IntType
    /// Tables, `[positions][groups][Ka][Kw]`.
    @Blob public var tables: [Int]
    /// Bias type.
    public var bias: IntType
    /// Per-column bias at accumulator scale.
    @Blob public var biases: [Int]
    /// Accumulator type, proven to hold `bias + Σ_p T` for every input.
    public var accumulator: IntType
    /// Per-column requantizer; every multiplier is a power of two `2^L`, so the
    /// datapath shifts left by `L` instead of multiplying. With outliers the
    /// requantizer adds `acc_outlier · M2` before the shift.
    public var requantizers: [Requantizer]
    /// Type of `L = log2(multiplier)`.
    public var multiplierShift: IntType
    /// Type of the right shift `S`.
    public var shift: IntType
    /// Type of the offset `C`.
    public var offset: IntType
    /// Type of `acc·2^L (+ acc_outlier·M2) + C`.
    public var scaled: IntType
    /// Type the requantizer clamps to.
    public var requantized: IntType
    /// Optional table after requantization.
    public var table: ActivationTable?
    /// Outlier weights on a sparse chain (dense-and-sparse), if any.
    public var outliers: OutlierChain?
    /// Centroids compared per cycle.
    public var searchLanes: Int
    /// Output columns accumulated per cycle.
    public var columnLanes: Int
    /// Positions accumulated per cycle.
    public var positionLanes: Int

    /// Creates a kernel; Lowering is the only producer.
    public init(inputCount: Int, outputCount: Int, inputType: TensorType, outputType: TensorType,
                vectorLength: Int, activationCentroids: Int, weightCentroids: Int, groupColumns: Int,
                distance: Distance, distanceType: IntType, centroids: [Int], codes: [Int], entry: IntType,
                tables: [Int], bias: IntType, biases: [Int], accumulator: IntType, requantizers: [Requantizer],
                multiplierShift: IntType, shift: IntType, offset: IntType, scaled: IntType, requantized: IntType,
                table: ActivationTable?, outliers: OutlierChain? = nil, searchLanes: Int, columnLanes: Int, positionLanes: Int) {
        self.inputCount = inputCount
        self.outputCount = outputCount
        self.inputType = inputType
        self.outputType = outputType
        self.vectorLength = vectorLength
        self.activationCentroids = activationCentroids
        self.weightCentroids = weightCentroids
        self.groupColumns = groupColumns
        self.distance = distance
        self.distanceType = distanceType
        self.centroids = centroids
        self.codes = codes
        self.entry = entry
        self.tables = tables
        self.bias = bias
        self.biases = biases
        self.accumulator = accumulator
        self.requantizers = requantizers
        self.multiplierShift = multiplierShift
        self.shift = shift
        self.offset = offset
        self.scaled = scaled
        self.requantized = requantized
        self.table = table
        self.outliers = outliers
        self.searchLanes = searchLanes
        self.columnLanes = columnLanes
        self.positionLanes = positionLanes
    }

    /// Frames per inference: input vectors (windows of a convolution) processed one after another.
    public var frames: Int { inputType.count / inputCount }

    public var inputTypes: [TensorType] { [inputType] }
    /// Input element type as the hardware carries it.
    public var input: IntType { inputType.storage }
    /// Positions `P = ceil(inputCount / v)`.
    public var positions: Int { Arith.ceilDiv(inputCount, vectorLength) }
    /// Column groups `G = ceil(outputCount / S)`.
    public var groups: Int { Arith.ceilDiv(outputCount, groupColumns) }
    /// Output element type.
    public var output: IntType { table?.output ?? requantized }
    /// `L` of column `n`'s multiplier `2^L`.
    public func multiplierShift(_ n: Int) -> Int { requantizers[n].multiplier.trailingZeroBitCount }
    /// Width of a centroid index.
    public var indexBits: Int { Arith.indexBits(activationCentroids) }
    /// Width of a weight code.
    public var codeBits: Int { Arith.indexBits(weightCentroids) }

    /// Element `e` of activation centroid `k` at position `p`.
    public func centroid(_ p: Int, _ k: Int, _ e: Int) -> Int { centroids[(p * activationCentroids + k) * vectorLength + e] }
    /// Weight code of column `n` at position `p`.
    public func code(_ p: Int, _ n: Int) -> Int { codes[p * outputCount + n] }
    /// Table entry `T[p][g][k][w]`.
    public func entry(_ p: Int, _ g: Int, _ k: Int, _ w: Int) -> Int {
        tables[((p * groups + g) * activationCentroids + k) * weightCentroids + w]
    }

    /// Column passes: `ceil(outputCount / columnLanes)`; every pass lies in one group.
    public var passes: Int { Arith.ceilDiv(outputCount, columnLanes) }
    /// Position blocks: `ceil(positions / positionLanes)`.
    public var positionBlocks: Int { Arith.ceilDiv(positions, positionLanes) }
    /// Search blocks per position: `ceil(Ka / searchLanes)`.
    public var searchBlocks: Int { Arith.ceilDiv(activationCentroids, searchLanes) }
    /// Width of an outlier's input index.
    public var outlierIndexBits: Int { Arith.indexBits(inputCount) }
    /// Rows in each position lane's table memory: `positionBlocks · groups · Ka`.
    public var tableDepth: Int { positionBlocks * groups * activationCentroids }
    /// Address width of a table memory (at least the centroid index width).
    public var tableAddressBits: Int { max(Arith.indexBits(tableDepth), indexBits) }

    /// The schedule of `RTL/lf_lut_linear.v`: search `P · ceil(Ka/SL) + 1`, compute
    /// `passes · (ceil(P/PL) + ceil(count/OL))`, drain 4 (5 with a table).
    public var schedule: KernelSchedule {
        KernelSchedule(inputBeats: [inputCount], passes: passes, searchCycles: positions * searchBlocks + 1,
                       computeCycles: passes * (positionBlocks + (outliers?.cycles ?? 0)),
                       drainCycles: 4 + (table == nil ? 0 : 1), outputBeats: outputCount, frames: frames)
    }

    public func check(node: String) throws {
        func need(_ ok: Bool, _ why: String) throws { if !ok { throw ProgramError(at: "node '\(node)'", reason: why) } }
        try need(inputType.count % inputCount == 0 && outputType.count == outputCount * frames && outputType.framesPerInference == frames,
                 "port shapes do not match \(inputCount) -> \(outputCount) per frame")
        try need(centroids.count == positions * activationCentroids * vectorLength, "centroid array has the wrong size")
        try need(codes.count == positions * outputCount && codes.allSatisfy { (0..<weightCentroids).contains($0) }, "codes have the wrong size or range")
        try need(tables.count == positions * groups * activationCentroids * weightCentroids && tables.allSatisfy(entry.contains), "tables have the wrong size or range")
        try need(biases.count == outputCount && requantizers.count == outputCount, "needs one bias and one requantizer per column")
        try need(groupColumns % columnLanes == 0 || groups == 1, "S must be a multiple of the column lanes")
        try need(outputType.storage == output, "output stream is \(outputType.storage), the kernel writes \(output)")
        try need(requantizers.allSatisfy { $0.multiplier > 0 && $0.multiplier & ($0.multiplier - 1) == 0 && shift.contains($0.shift) && offset.contains($0.offset) },
                 "requantizer multipliers must be powers of two and fields within their types")
    }

    public func dumpLines() -> [String] {
        var out = [
            "options v \(vectorLength) ka \(activationCentroids) kw \(weightCentroids) s \(groupColumns) distance \(distance.rawValue) lanes search \(searchLanes) column \(columnLanes) position \(positionLanes)",
            "types x \(input) dist \(distanceType) t \(entry) b \(bias) acc \(accumulator) l \(multiplierShift) s \(shift) c \(offset) scaled \(scaled) y \(requantized)",
        ]
        for n in 0..<outputCount {
            let q = requantizers[n]
            out.append("out \(n): b \(biases[n]) m \(q.multiplier) s \(q.shift) c \(q.offset) codes [\((0..<positions).map { String(code($0, n)) }.joined(separator: " "))]")
        }
        for p in 0..<positions {
            let cs = (0..<activationCentroids).map { c in "(" + (0..<vectorLength).map { String(centroid(p, c, $0)) }.joined(separator: " ") + ")" }
            out.append("position \(p) centroids [\(cs.joined(separator: " "))]")
            for g in 0..<groups {
                for c in 0..<activationCentroids {
                    out.append("  T[\(p)][\(g)][\(c)] [\((0..<weightCentroids).map { String(entry(p, g, c, $0)) }.joined(separator: " "))]")
                }
            }
        }
        if let o = outliers {
            out.append("outliers \(o.count) per column, lanes \(o.lanes), w \(o.weight) acc \(o.accumulator) m2 \(o.multiplier)")
        }
        if let t = table { out.append(t.dumpLine) }
        return out
    }

    /// Centroids (`c`), codes (`w`), biases (`b`), requantizers (`q`: `{C, L, S}`), outlier pairs
    /// (`o`) and multipliers (`m2`), one table memory per position lane (`tab0`, …) and the activation table (`t`).
    public var memories: [MemoryImage] {
        let sl = searchLanes, cl = columnLanes, pl = positionLanes, ka = activationCentroids
        var c = MemoryImage(suffix: "c", width: sl * vectorLength * input.bits)
        var w = MemoryImage(suffix: "w", width: pl * cl * codeBits)
        var b = MemoryImage(suffix: "b", width: cl * bias.bits)
        var q = MemoryImage(suffix: "q", width: cl * (shift.bits + multiplierShift.bits + offset.bits))
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
                guard n < outputCount else { return [(0, shift.bits), (0, multiplierShift.bits), (0, offset.bits)] }
                return [(requantizers[n].shift, shift.bits), (multiplierShift(n), multiplierShift.bits), (requantizers[n].offset, offset.bits)]
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
