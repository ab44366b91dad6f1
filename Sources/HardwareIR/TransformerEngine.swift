// The temporal mapping of a transformer (after LUT-LLM's spatial-temporal engine): one
// DSP-chain engine, reused by every int8 DSP linear of every layer, reads each linear's
// weights, biases and requantizers from off-chip memory as a stream of 64-bit words. This
// file is the single description of that memory image and of the engine's proven widths;
// the Verilog and HLS emitters, both harnesses' memory models and the cycle model read it.

/// How a transformer's linears map to hardware.
public enum TransformerMapping: String, Sendable, CaseIterable, Codable {
    /// The int8 DSP linears run on one reused DSP engine and the LUT linears on one reused LUT
    /// engine, both fed from off-chip memory (the default). Linears an engine cannot take
    /// (outliers, say) keep their own instances.
    case temporal
    /// One instance per linear, weights and tables in on-chip ROM.
    case spatial
}

/// The off-chip memory the engine reads: a burst request is accepted at once, its first
/// 64-bit word arrives `latency` cycles later and each next one `interval` cycles after the
/// previous (`8 / interval` bytes per cycle). Both harnesses and the cycle model implement
/// exactly this.
public struct MemoryModel: Sendable, Hashable, CustomStringConvertible {
    public var latency: Int
    public var interval: Int

    public init(latency: Int, interval: Int) { (self.latency, self.interval) = (latency, interval) }

    /// The harnesses' default: 24 cycles to the first word, one word per cycle.
    public static let standard = MemoryModel(latency: 24, interval: 1)

    /// Bytes per cycle at the steady rate.
    public var bytesPerCycle: Double { 8 / Double(interval) }

    public var description: String { "latency \(latency) cycles, one 64-bit word every \(interval) cycle(s)" }
}

/// The reused DSP-chain engine of a temporal design: the linears it serves, where each one's
/// words start in the off-chip image, and the engine's widths (each the widest of its linears'
/// proven types, so every linear's bound holds on the shared datapath).
public struct DSPEngineLayout: Sendable {
    /// One linear's slice of the image: `outputs` columns of `wordsPerColumn` words from `base`.
    public struct Region: Sendable, Hashable {
        public var base: Int
        public var inputs: Int
        public var outputs: Int
        /// The requantizer's clamp range (the output type's, or the table's input range).
        public var lo: Int
        public var hi: Int
        /// Start of this linear's activation table in `table`, when it has one.
        public var tableBase: Int?

        public init(base: Int, inputs: Int, outputs: Int, lo: Int, hi: Int, tableBase: Int?) {
            (self.base, self.inputs, self.outputs, self.lo, self.hi, self.tableBase) = (base, inputs, outputs, lo, hi, tableBase)
        }
        /// Words per output column: bias, offset C, {shift S, multiplier M}, then the weights.
        public var wordsPerColumn: Int { DSPEngineLayout.headerWords + Arith.ceilDiv(inputs, DSPEngineLayout.weightsPerWord) }
        /// Words of the whole linear.
        public var words: Int { outputs * wordsPerColumn }

        /// Writes `k`'s words into `words` (zeroed): per column the header, then the packed weights.
        public func write(_ k: DSPKernel, into words: inout [UInt64]) {
            for n in 0..<outputs {
                let at = base + n * wordsPerColumn
                EngineImage.header(&words, at, bias: k.biases[n], k.requantizers[n])
                for i in 0..<inputs { EngineImage.put(&words, at + DSPEngineLayout.headerWords, i, k.weight(output: n, input: i), bits: 8) }
            }
        }
    }

    public static let headerWords = 3
    /// int8 weights per 64-bit word, weight `k` of a column in bits `8·(k mod 8)` of word `k / 8`.
    public static let weightsPerWord = 8
    public static let weightBits = 8

    /// By step kernel name (`L0_q` … `head`), in the design's order.
    public var regions: [(name: String, region: Region)]
    /// Concatenated activation tables of the linears that have one (entries in `outputType`).
    public var table: [Int]
    public var inputType: IntType
    public var accumulator: IntType
    public var multiplier: IntType
    public var scaled: IntType
    public var outputType: IntType
    public var halfEven: Bool
    public var maxInputs: Int
    /// Total words of the off-chip image.
    public var words: Int

    public func region(_ name: String) -> Region? { regions.first { $0.name == name }?.region }

    /// Whether the engine can run `k`: int8 (or narrower) signed weights, a signed input of at most
    /// 32 bits, one frame, an output of at most 32 bits, a requantizer whose M fits 32 bits and S
    /// 6 bits, and room on the 64-bit datapath.
    public static func accepts(_ k: DSPKernel) -> Bool {
        k.weight.signed && k.weight.bits <= weightBits && k.input.signed && k.input.bits <= 32 && k.frames == 1 && k.output.bits <= 32
            && k.accumulator.bits <= 58 && k.scaled.bits <= 60
            && k.requantizers.allSatisfy { $0.multiplier >= 0 && $0.multiplier < 1 << 32 && $0.shift >= 0 && $0.shift < 64 }
    }
}

extension TransformerDesign {
    /// The linears by step kernel name, in instance order.
    public var namedLinears: [(name: String, linear: TransformerLinear)] {
        stepKernels.compactMap { if case let .linear(l) = $0.kernel { ($0.name, l) } else { nil } }
    }

    /// The reused engine of a temporal design, or nil (spatial, or no linear it can run).
    public var dspEngine: DSPEngineLayout? {
        guard mapping == .temporal else { return nil }
        var kernels: [(String, DSPKernel)] = []
        for (name, lin) in namedLinears {
            if case let .dsp(k) = lin, DSPEngineLayout.accepts(k) { kernels.append((name, k)) }
        }
        // One half-even choice for the shared requantizer: the linears of the other choice keep their instances.
        let halfEven = kernels.first?.1.halfEven ?? false
        kernels = kernels.filter { $0.1.halfEven == halfEven }
        guard !kernels.isEmpty else { return nil }
        var regions: [(String, DSPEngineLayout.Region)] = [], table: [Int] = [], base = 0
        for (name, k) in kernels {
            var tableBase: Int?
            if let t = k.table {
                tableBase = table.count
                table += t.values
            }
            let r = DSPEngineLayout.Region(base: base, inputs: k.inputCount, outputs: k.outputCount, lo: k.clampRange.lowerBound,
                                           hi: k.clampRange.upperBound, tableBase: tableBase)
            regions.append((name, r))
            base += r.words
        }
        let ks = kernels.map(\.1)
        let input = EngineWidths.widest(ks.map(\.input))
        // Wider than one product (int8 × input) with guard bits, as each linear's own accumulator is.
        let accumulator = IntType.int(max(EngineWidths.widest(ks.map(\.accumulator)).bits, input.bits + DSPEngineLayout.weightBits + 2))
        let (multiplier, scaled, output) = EngineWidths.outputSide(accumulator: accumulator, requantizers: ks.flatMap(\.requantizers),
                                                                  scaled: ks.map(\.scaled), ranges: regions.map { ($0.1.lo, $0.1.hi) }, table: table)
        return DSPEngineLayout(regions: regions, table: table, inputType: input, accumulator: accumulator, multiplier: multiplier,
                               scaled: scaled, outputType: output, halfEven: halfEven,
                               maxInputs: ks.map(\.inputCount).max()!, words: base)
    }

    /// The off-chip image of the engines' linears, one 64-bit word per element (empty without an engine).
    public func offChipImage() -> [UInt64] {
        var words = [UInt64](repeating: 0, count: offChipWords)
        let kernels = Dictionary(uniqueKeysWithValues: namedLinears.map { ($0.name, $0.linear) })
        for (name, r) in dspEngine?.regions ?? [] { if case let .dsp(k) = kernels[name]! { r.write(k, into: &words) } }
        for (name, r) in lutEngine?.regions ?? [] { if case let .lut(k) = kernels[name]! { r.write(k, into: &words) } }
        return words
    }

    /// Bytes each layer (−1: the head) holds in off-chip memory: its engine linears' words.
    public func offChipBytes(layer l: Int) -> Int {
        func mine(_ name: String) -> Bool { l < 0 ? name == "head" : name.hasPrefix("L\(l)_") }
        let dsp = (dspEngine?.regions ?? []).filter { mine($0.name) }.reduce(0) { $0 + 8 * $1.region.words }
        let lut = (lutEngine?.regions ?? []).filter { mine($0.name) }.reduce(0) { $0 + 8 * ($1.region.end - $1.region.centroidBase) }
        return dsp + lut
    }
}

/// The reused LUT-linear engine of a temporal design (RTL/lf_tf_lut_engine.v): per token and
/// position it reads the activation codebook, finds the nearest centroid, reads that centroid's
/// table row of each column group and the group's weight codes, adds one entry per column;
/// then each column's requantizer words. Its region of the off-chip image follows the DSP
/// engine's; widths are the widest of its linears' proven types.
public struct LUTEngineLayout: Sendable {
    /// One linear's slice of the image. All offsets are absolute word addresses.
    public struct Region: Sendable, Hashable {
        public var inputs: Int
        public var outputs: Int
        public var vectorLength: Int
        public var activationCentroids: Int
        public var weightCentroids: Int
        public var groupColumns: Int
        public var l2: Bool
        /// Centroids: per position `centroidWords` words of 16-bit elements (centroid k's element e at k·v + e).
        public var centroidBase: Int
        /// Codes: per position and group `codeWords` words of 8-bit codes (the group's columns in order).
        public var codeBase: Int
        /// Table rows: row (p, g, k) at `tableBase + ((p·groups + g)·Ka + k)·rowWords`, 16-bit entries.
        public var rowBase: Int
        /// Per column: bias, offset C, {S, M} (as the DSP engine's header).
        public var requantizerBase: Int
        public var lo: Int
        public var hi: Int
        /// Start of the activation table in `LUTEngineLayout.table`, when there is one.
        public var tableBase: Int?

        /// The region of `k` starting at word `at`.
        public init(_ k: LUTKernel, at: Int, tableBase: Int?) {
            (inputs, outputs, vectorLength) = (k.inputCount, k.outputCount, k.vectorLength)
            (activationCentroids, weightCentroids, groupColumns, l2) = (k.activationCentroids, k.weightCentroids, k.groupColumns, k.distance == .l2)
            (lo, hi, self.tableBase) = (k.requantized.min, k.requantized.max, tableBase)
            centroidBase = at
            codeBase = 0
            rowBase = 0
            requantizerBase = 0
            codeBase = centroidBase + positions * centroidWords
            rowBase = codeBase + positions * groups * codeWords
            requantizerBase = rowBase + positions * groups * activationCentroids * rowWords
        }

        /// Writes `k`'s words into `words` (zeroed): centroids, codes, rows, requantizers.
        public func write(_ k: LUTKernel, into words: inout [UInt64]) {
            let (ka, kw, v) = (activationCentroids, weightCentroids, vectorLength)
            for p in 0..<positions {
                for c in 0..<ka { for e in 0..<v { EngineImage.put(&words, centroidBase + p * centroidWords, c * v + e, k.centroid(p, c, e), bits: 16) } }
                for g in 0..<groups {
                    for j in 0..<columns(g) { EngineImage.put(&words, codeBase + (p * groups + g) * codeWords, j, k.code(p, g * groupColumns + j), bits: 8) }
                    for c in 0..<ka {
                        for w in 0..<kw { EngineImage.put(&words, rowBase + ((p * groups + g) * ka + c) * rowWords, w, k.entry(p, g, c, w), bits: 16) }
                    }
                }
            }
            for n in 0..<outputs { EngineImage.header(&words, requantizerBase + 3 * n, bias: k.biases[n], k.requantizers[n]) }
        }

        public var positions: Int { Arith.ceilDiv(inputs, vectorLength) }
        public var groups: Int { Arith.ceilDiv(outputs, groupColumns) }
        public var centroidWords: Int { Arith.ceilDiv(activationCentroids * vectorLength, 4) }
        public var rowWords: Int { Arith.ceilDiv(weightCentroids, 4) }
        public var codeWords: Int { Arith.ceilDiv(groupColumns, 8) }
        /// Columns of group `g`.
        public func columns(_ g: Int) -> Int { min(groupColumns, outputs - g * groupColumns) }
        public var end: Int { requantizerBase + 3 * outputs }
        /// The words of each burst of one token, in order: per position its centroids, then per
        /// group the chosen row and the group's codes; last the requantizers. The lengths do not
        /// depend on the data (the row's address does).
        public var burstLengths: [Int] {
            var out: [Int] = []
            for _ in 0..<positions {
                out.append(centroidWords)
                for g in 0..<groups { out += [rowWords, Arith.ceilDiv(columns(g), 8)] }
            }
            return out + [3 * outputs]
        }
    }

    public var regions: [(name: String, region: Region)]
    public var table: [Int]
    public var inputType: IntType
    public var accumulator: IntType
    public var multiplier: IntType
    public var scaled: IntType
    public var outputType: IntType
    public var maxInputs: Int
    public var maxOutputs: Int
    public var maxWeightCentroids: Int
    /// First and one-past-last word of the engine's part of the image.
    public var start: Int
    public var end: Int

    public func region(_ name: String) -> Region? { regions.first { $0.name == name }?.region }

    /// Whether the engine can run `k`: no outliers, one frame, a signed input of at most 16 bits,
    /// v in {1, 2, 4}, at most 256 activation and weight centroids, entries of at most 16 bits, an
    /// output of at most 32 bits, a requantizer whose M fits 32 bits, and room on the datapath.
    public static func accepts(_ k: LUTKernel) -> Bool {
        k.outliers == nil && k.frames == 1 && k.input.signed && k.input.bits <= 16 && [1, 2, 4].contains(k.vectorLength)
            && k.activationCentroids <= 256 && k.weightCentroids <= 256 && k.entry.bits <= 16 && k.output.bits <= 32
            && k.accumulator.bits <= 58 && k.scaled.bits <= 60
            && k.requantizers.allSatisfy { $0.multiplier >= 0 && $0.multiplier < 1 << 32 && $0.shift >= 0 && $0.shift < 64 }
    }
}

extension TransformerDesign {
    /// The reused LUT-linear engine of a temporal design, or nil.
    public var lutEngine: LUTEngineLayout? {
        guard mapping == .temporal else { return nil }
        let kernels: [(String, LUTKernel)] = namedLinears.compactMap { if case let .lut(k) = $0.linear, LUTEngineLayout.accepts(k) { ($0.name, k) } else { nil } }
        guard !kernels.isEmpty else { return nil }
        let start = dspEngine?.words ?? 0
        var regions: [(String, LUTEngineLayout.Region)] = [], table: [Int] = [], at = start
        for (name, k) in kernels {
            var tableBase: Int?
            if let t = k.table {
                tableBase = table.count
                table += t.values
            }
            let r = LUTEngineLayout.Region(k, at: at, tableBase: tableBase)
            regions.append((name, r))
            at = r.end
        }
        let ks = kernels.map(\.1)
        let input = EngineWidths.widest(ks.map(\.input))
        // Wider than a 16-bit table entry with guard bits.
        let accumulator = IntType.int(max(EngineWidths.widest(ks.map(\.accumulator)).bits, 18))
        let (multiplier, scaled, output) = EngineWidths.outputSide(accumulator: accumulator, requantizers: ks.flatMap(\.requantizers),
                                                                  scaled: ks.map(\.scaled), ranges: regions.map { ($0.1.lo, $0.1.hi) }, table: table)
        return LUTEngineLayout(regions: regions, table: table, inputType: input, accumulator: accumulator, multiplier: multiplier, scaled: scaled,
                               outputType: output, maxInputs: ks.map(\.inputCount).max()!, maxOutputs: ks.map(\.outputCount).max()!,
                               maxWeightCentroids: ks.map(\.weightCentroids).max()!, start: start, end: at)
    }

    /// Words of the whole off-chip image (both engines).
    public var offChipWords: Int { lutEngine?.end ?? dspEngine?.words ?? 0 }
}

/// Packing rules of the off-chip image, shared by both engines' regions.
public enum EngineImage {
    /// A column's header: bias, offset C (both two's complement), `M | S << 32`.
    public static func header(_ words: inout [UInt64], _ at: Int, bias: Int, _ q: Requantizer) {
        words[at] = UInt64(bitPattern: Int64(bias))
        words[at + 1] = UInt64(bitPattern: Int64(q.offset))
        words[at + 2] = UInt64(q.multiplier) | UInt64(q.shift) << 32
    }

    /// Element `i` of a packed array of `bits`-bit two's-complement fields from word `at` (64 / bits per word, lowest first).
    public static func put(_ words: inout [UInt64], _ at: Int, _ i: Int, _ v: Int, bits: Int) {
        let perWord = 64 / bits
        let mask: UInt64 = (1 << UInt64(bits)) - 1
        words[at + i / perWord] |= (UInt64(bitPattern: Int64(v)) & mask) << UInt64(bits * (i % perWord))
    }
}

/// The widths both engines derive the same way from the linears they serve.
public enum EngineWidths {
    /// The narrowest type holding every value of each of `types`.
    public static func widest(_ types: [IntType]) -> IntType { IntType(signed: types.contains { $0.signed }, bits: types.map(\.bits).max()!) }

    /// The shared output side (RTL/lf_tf_engine_out.v): the multiplier holding every M; `acc·M + C`
    /// as wide as every linear's proven `scaled`, with room for the accumulator, the multiplier and
    /// the clamp bounds (RTL/lf_round_clamp.v); the output holding every clamp bound and table
    /// entry, signed (the sequencer sign-extends).
    public static func outputSide(accumulator: IntType, requantizers: [Requantizer], scaled: [IntType], ranges: [(Int, Int)],
                                  table: [Int]) -> (multiplier: IntType, scaled: IntType, output: IntType) {
        let output = IntType.signedFitting((ranges.map(\.0) + table).min()!, (ranges.map(\.1) + table).max()!)!
        let multiplier = IntType.uint(max(1, requantizers.map { Arith.indexBits($0.multiplier + 1) }.max() ?? 1))
        let wide = IntType.int(max(widest(scaled).bits, accumulator.bits + 1, multiplier.bits + 2, output.bits + 2))
        return (multiplier, wide, output)
    }
}
