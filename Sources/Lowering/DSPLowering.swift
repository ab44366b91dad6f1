// DSP-chain kernels: N:M magnitude pruning (dense is N = M) of integer weights,
// and every width proven from the stored integers and the input range
// (docs/numerics.md, "DSP-chain kernel" and "Proven widths"). Float models get
// per-channel symmetric weights first (`quantizeWeights`); quantized models bring
// their integers.
import Foundation
import HardwareIR
import Quantize

/// What a kernel builder needs to know about the layer it builds.
struct LayerContext {
    /// Model file, for messages.
    var file: String
    /// The model node named in messages.
    var node: String
    /// Type of the input stream.
    var inputType: TensorType

    func unprovable(_ reason: String) -> LoweringError { .unprovable(file: file, node: node, reason: reason) }
    func unsupported(_ reason: String) -> LoweringError { .unsupported(file: file, node: node, reason: reason) }
}

/// How the requantized result of a layer is produced and read.
struct OutputSpec {
    /// Per-output requantizer.
    var requantizers: [Requantizer]
    /// Type the requantizer clamps to.
    var requantized: IntType
    /// Table after the requantizer (sigmoid).
    var table: ActivationTable?
    /// Quantization of the output stream.
    var quant: Quantization?
    /// The requantizers round half to even.
    var halfEven = false
    /// The requantizer saturates to the narrow range of `requantized` (no table).
    var narrow = false
    /// Element type of the output stream (bipolar never comes out of a requantizer).
    var element: ElementType {
        if let t = table { return ElementType(t.output) }
        return ElementType(kind: requantized.signed ? .signed : .unsigned, bits: requantized.bits, narrow: narrow)
    }
}

enum DSPLowering {
    /// Weight width of float models.
    static let weightBits = 8
    /// Requantization multiplier width of float models.
    static let multiplierBits = 15

    /// The kept offsets of each row under `o`'s N:M pruning, by magnitude.
    static func prune(_ rows: [[Float]], _ o: DSPOptions) -> [[[Int]]] {
        rows.map { NMPruning.keptOffsets(row: $0, n: o.kept, m: o.blockSize, unit: o.unit) }
    }

    /// Checks `o` and returns `(M, N, chain, group)` in weights, with units expanded.
    static func geometry(_ c: LayerContext, _ o: DSPOptions, inputs: Int) throws -> (m: Int, n: Int, chain: Int, group: Int) {
        func option(_ ok: Bool, _ reason: String) throws { if !ok { throw c.unsupported(reason) } }
        try option(o.blockSize >= 1 && o.kept >= 1 && o.kept <= o.blockSize, "sparsity \(o.kept):\(o.blockSize) must have 1 ≤ N ≤ M")
        try option(o.unit >= 1, "sparsity unit must be at least 1, got \(o.unit)")
        let m = o.blockSize * o.unit, n = o.kept * o.unit
        let chain = o.chainLength ?? n
        try option(chain >= n && chain % n == 0, "chain length \(chain) must be a positive multiple of the \(n) weights kept per block")
        let group = o.groupSize ?? chain
        try option(group >= 1 && group <= chain, "group size \(group) must be in 1...\(chain)")
        return (m, n, chain, group)
    }

    /// Float model: prunes, then quantizes each output row to symmetric int8 (scale `max|w| / 127`).
    static func quantizeWeights(_ c: LayerContext, rows: [[Float]], options o: DSPOptions) throws -> (rows: [[Int]], scales: [Double]) {
        let (m, _, _, _) = try geometry(c, o, inputs: rows.first?.count ?? 0)
        let kept = prune(rows, o)
        let pruned = zip(rows, kept).map { NMPruning.apply($0, kept: $1, m: m) }
        let (codes, scales) = WeightQuantizer.perChannel(rows: pruned, bits: weightBits)
        return (codes, scales)
    }

    /// Float model: the requantizer of output `n` for accumulator scale `accScale`, output scale
    /// `outScale` and real bias `bias` (folded into the offset `C`, rounded at `2^-S` of an output step).
    static func requantizer(_ c: LayerContext, accScale: Double, outScale: Double, bias: Double, accBound: Int, output n: Int,
                            range: IntType) throws -> Requantizer {
        let ratio = accScale / outScale
        guard ratio.isFinite, ratio > 0, var q = MultiplierQuantizer.quantize(ratio, bits: multiplierBits) else {
            throw c.unprovable("requantization ratio \(ratio) of output \(n) is too large for a \(multiplierBits)-bit multiplier")
        }
        // A bias beyond every reachable accumulator saturates the output whatever the input;
        // clamping it there keeps every result and the offset's width bounded.
        let reach = Double(accBound) * ratio + Double(range.max - range.min) + 2
        let b = Swift.min(Swift.max(bias / outScale, -reach), reach)
        // The offset b·2^S must fit: a tiny ratio (weights negligible beside the bias) gets a smaller
        // shift, at the cost of multiplier precision that is below one output step anyway.
        let maxShift = 59 - Int(ceil(log2(abs(b) + 2)))
        if q.shift > maxShift {
            let s = Swift.max(1, maxShift)
            q = (Int(roundHalfEven(ratio * pow2(s))), s)
        }
        let offset = roundHalfEven(b * pow2(q.shift)) + (q.shift > 0 ? pow2(q.shift - 1) : 0)
        guard abs(offset) < pow2(61) else { throw c.unprovable("requantization offset of output \(n) needs more than 62 bits") }
        return Requantizer(multiplier: q.multiplier, shift: q.shift, offset: Int(offset))
    }

    /// Builds a DSP-chain kernel from integer weights `rows` (`[out][in]`, exact), accumulator
    /// initial values `biases`, and the output side, pruning by `options` and proving every width.
    static func build(_ c: LayerContext, rows: [[Int]], biases: [Int], output: OutputSpec, lanes requestedLanes: Int,
                      options o: DSPOptions) throws -> DSPKernel {
        let nIn = rows.first?.count ?? 0, nOut = rows.count
        guard nIn > 0, nOut > 0 else { throw c.unsupported("empty weight matrix") }
        let (m, n, chain, group) = try geometry(c, o, inputs: nIn)
        let blocks = Arith.ceilDiv(nIn, m)
        let blocksPerCycle = min(chain / n, blocks)
        let kept = prune(rows.map { $0.map { Float(abs($0)) } }, o)
        var values: [Int] = [], offsets: [Int] = []
        for (row, blocksKept) in zip(rows, kept) {
            for (b, offs) in blocksKept.enumerated() {
                for i in offs {
                    values.append(b * m + i < row.count ? row[b * m + i] : 0)
                    offsets.append(i)
                }
            }
        }
        // Proven bounds: per output, b + Σ over the stored weights of w·x for x anywhere in the input type.
        let x = c.inputType.element
        let perOutput = blocks * n
        var accLo = 0, accHi = 0
        var bounds: [(lo: Int, hi: Int)] = []
        for out in 0..<nOut {
            let r = Arith.dotRange(values[(out * perOutput)..<((out + 1) * perOutput)], xlo: x.min, xhi: x.max, bias: biases[out])
            bounds.append(r)
            accLo = Swift.min(accLo, r.lo)
            accHi = Swift.max(accHi, r.hi)
        }
        let wType = Arith.signedType(values.min() ?? 0, values.max() ?? 0)!
        let bType = Arith.signedType(biases.min() ?? 0, biases.max() ?? 0)!
        guard let bounded = IntType.signedFitting(accLo, accHi) else {
            throw c.unprovable("accumulator range \(accLo)...\(accHi) needs more than 62 bits")
        }
        // At least one product plus a guard bit, and wider than the bias, so the
        // datapath's sign extensions are never empty (RTL/lf_dsp_chain.v).
        let accType = IntType.int(max(bounded.bits, wType.bits + c.inputType.storage.bits + 2, bType.bits + 1))
        let qs = output.requantizers
        let mType = IntType.unsignedFitting(max(qs.map(\.multiplier).max() ?? 0, 1))!
        let sType = IntType.unsignedFitting(max(qs.map(\.shift).max() ?? 0, 1))!
        let cType = Arith.signedType(qs.map(\.offset).min() ?? 0, qs.map(\.offset).max() ?? 0)!
        var scaledLo = 0, scaledHi = 0
        for (q, r) in zip(qs, bounds) {
            let (a, o1) = r.lo.multipliedReportingOverflow(by: q.multiplier)
            let (b, o2) = r.hi.multipliedReportingOverflow(by: q.multiplier)
            guard !o1, !o2, abs(a) < 1 << 61, abs(b) < 1 << 61 else { throw c.unprovable("requantization product needs more than 62 bits") }
            // The product alone and with the offset: the RTL holds both in the scaled width.
            scaledLo = Swift.min(scaledLo, Swift.min(a, b) + Swift.min(q.offset, 0))
            scaledHi = Swift.max(scaledHi, Swift.max(a, b) + Swift.max(q.offset, 0))
        }
        guard let scaledFit = IntType.signedFitting(scaledLo, scaledHi) else { throw c.unprovable("requantization value needs more than 62 bits") }
        // Wider than the accumulator, the multiplier and the offset, and able to hold the clamp bounds (RTL/lf_round_clamp.v).
        let scaledType = IntType.int(max(scaledFit.bits, accType.bits + 1, mType.bits + 2, cType.bits, output.requantized.bits + 1))
        guard scaledType.bits <= 62 else { throw c.unprovable("requantization value needs more than 62 bits") }
        let lanes = max(1, min(requestedLanes, nOut))
        let outType = linearOutputType(input: c.inputType, inputCount: nIn, element: output.element, outputs: nOut, quant: output.quant)
        return DSPKernel(
            inputCount: nIn, outputCount: nOut, lanes: lanes, blockSize: m, kept: n, blocksPerCycle: blocksPerCycle,
            groupSize: min(group, blocksPerCycle * n), inputType: c.inputType, outputType: outType, weight: wType, bias: bType,
            accumulator: accType, multiplier: mType, shift: sType, offset: cType, scaled: scaledType, requantized: output.requantized,
            table: output.table, values: values, offsets: offsets, biases: biases, requantizers: qs, halfEven: output.halfEven)
    }

    /// The output stream of a linear kernel reading vectors of `inputCount` from `input`: one vector,
    /// or (the windows of a convolution, one frame each) a map with `outputs` channels per position.
    static func linearOutputType(input: TensorType, inputCount: Int, element: ElementType, outputs: Int, quant: Quantization?) -> TensorType {
        let frames = input.count / inputCount
        guard frames > 1 else { return .vector(element, outputs, quant: quant) }
        return .map(element, positions: Array(input.shape.dropLast()), channels: outputs, quant: quant)
    }

    /// Per-output `[lo, hi]` of the exact accumulator of integer rows for inputs anywhere in `x` (pruned as `options`).
    static func accumulatorRanges(_ rows: [[Int]], biases: [Int], x: ElementType, options o: DSPOptions) -> [(lo: Int, hi: Int)] {
        let m = o.blockSize * o.unit
        let kept = prune(rows.map { $0.map { Float(abs($0)) } }, o)
        return zip(rows, zip(kept, biases)).map { row, kb in
            let stored = kb.0.enumerated().flatMap { b, offs in offs.compactMap { i in b * m + i < row.count ? row[b * m + i] : nil } }
            return Arith.dotRange(stored, xlo: x.min, xhi: x.max, bias: kb.1)
        }
    }
}

/// `2^e` as a double.
@inline(__always)
func pow2(_ e: Int) -> Double { Double(sign: .plus, exponent: e, significand: 1) }
