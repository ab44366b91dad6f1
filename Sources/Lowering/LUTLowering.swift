// LUT-linear kernels (after LUT-LLM): activation and weight codebooks by k-means,
// 2-D tables of centroid dot products, a power-of-two requantizer folded into
// the table scale (so the datapath has no multiplier), widths proven from the
// actual tables (docs/numerics.md, "LUT-linear layer").
import Foundation
import HardwareIR
import Quantize

/// The float layer a LUT-linear kernel approximates.
struct FloatLayer {
    /// Kernel name, for notes.
    var name: String
    /// Weights as rows, `[outputs][inputs]`, in real units.
    var weight: [[Float]]
    /// Real bias per output.
    var bias: [Float]
    var inputCount: Int { weight.first?.count ?? 0 }
    var outputCount: Int { weight.count }
}

/// The output side of a LUT-linear kernel.
enum LUTOutput {
    /// Requantized to `requantized` at `scale` (then an optional table): float models.
    case requantized(IntType, scale: Double, table: ActivationTable?, quant: Quantization?)
    /// The accumulator itself (identity requantizer); quantized models realize their quantizer after it.
    case raw
}

enum LUTLowering {
    /// Builds the kernel; with `.raw` output also returns the real value of one accumulator step per column.
    static func lower(_ c: LayerContext, layer: FloatLayer, output: LUTOutput, options requested: LUTOptions, calibration: [[Int]],
                      seed: UInt64) throws -> (kernel: LUTKernel, notes: [String], units: [Double]) {
        let nIn = layer.inputCount, nOut = layer.outputCount
        func option(_ ok: Bool, _ reason: String) throws {
            if !ok { throw c.unsupported(reason) }
        }
        let o = requested
        try option(o.vectorLength >= 1, "v must be at least 1, got \(o.vectorLength)")
        try option(o.activationCentroids >= 1, "Ka must be at least 1, got \(o.activationCentroids)")
        try option(o.weightCentroids >= 1, "Kw must be at least 1, got \(o.weightCentroids)")
        try option(o.groupColumns >= 1, "S must be at least 1, got \(o.groupColumns)")
        try option((2...16).contains(o.tableBits), "tbits must be in 2...16, got \(o.tableBits)")
        try option(o.searchLanes >= 1 && o.columnLanes >= 1 && o.positionLanes >= 1, "lanes must be at least 1")

        // Clip to the layer.
        let v = min(o.vectorLength, nIn)
        let positions = (nIn + v - 1) / v
        let columnLanes = min(o.columnLanes, nOut)
        var groupColumns = min(o.groupColumns, nOut)
        groupColumns = max(columnLanes, groupColumns - groupColumns % columnLanes)
        let groups = (nOut + groupColumns - 1) / groupColumns
        let positionLanes = min(o.positionLanes, positions)
        let x = c.inputType.storage
        func subvector(_ row: [Int], _ p: Int) -> [Int] { (0..<v).map { e in p * v + e < row.count ? row[p * v + e] : 0 } }
        let distinct = (0..<positions).map { p in Set(calibration.map { subvector($0, p) }).count }.max() ?? 1
        let ka = max(1, min(o.activationCentroids, distinct))
        let kw = max(1, min(o.weightCentroids, groupColumns))
        let searchLanes = min(o.searchLanes, ka)
        var notes: [String] = []
        let effective = "v=\(v) Ka=\(ka) Kw=\(kw) S=\(groupColumns) tbits=\(o.tableBits) \(o.distance.rawValue)"
        var clipped: [String] = []
        if v != o.vectorLength { clipped.append("v from \(o.vectorLength)") }
        if ka != o.activationCentroids { clipped.append("Ka from \(o.activationCentroids) (\(distinct) distinct calibration sub-vectors)") }
        if kw != o.weightCentroids { clipped.append("Kw from \(o.weightCentroids)") }
        if groupColumns != o.groupColumns { clipped.append("S from \(o.groupColumns)") }
        notes.append("\(layer.name): lut \(effective)" + (clipped.isEmpty ? "" : "; clipped \(clipped.joined(separator: ", "))"))

        // Activation codebooks: k-means on the integer activations, rounded to the input type.
        let actProblems = (0..<positions).map { p in
            KMeansProblem(points: calibration.flatMap { subvector($0, p).map(Double.init) }, dimension: v, k: ka)
        }
        let actResults = KMeans.cluster(actProblems, seed: seed)
        let centroids = actResults.flatMap { r in
            r.centroids.map { Swift.min(Swift.max(Int(roundHalfEven($0)), x.min), x.max) }
        }

        // Weight codebooks: per (position, group), k-means on the columns' weight sub-vectors.
        func groupRange(_ g: Int) -> Range<Int> { g * groupColumns..<min((g + 1) * groupColumns, nOut) }
        func quantizeWeights(_ weight: [[Float]]) -> (problems: [KMeansProblem], results: [KMeansResult], codes: [Int]) {
            var problems: [KMeansProblem] = []
            for p in 0..<positions {
                for g in 0..<groups {
                    let points = groupRange(g).flatMap { n in
                        (0..<v).map { e in p * v + e < nIn ? Double(weight[n][p * v + e]) : 0 }
                    }
                    problems.append(KMeansProblem(points: points, dimension: v, k: min(kw, groupRange(g).count)))
                }
            }
            let results = KMeans.cluster(problems, seed: seed &+ 0x9e37_79b9)
            var codes = [Int](repeating: 0, count: positions * nOut)
            for p in 0..<positions {
                for g in 0..<groups {
                    for (i, n) in groupRange(g).enumerated() { codes[p * nOut + n] = results[p * groups + g].assignment[i] }
                }
            }
            return (problems, results, codes)
        }

        // Dense-and-sparse: the chosen outliers leave the codebooks and stay exact in int8.
        try option(o.outlierFraction >= 0 && o.outlierFraction < 1, "outlier fraction must be in [0, 1), got \(o.outlierFraction)")
        try option(o.outlierLanes >= 1, "outlier lanes must be at least 1")
        var weight = layer.weight
        var outlierRows = [[(index: Int, value: Float)]](repeating: [], count: nOut)
        if o.outlierFraction > 0 {
            let count = max(1, Int(roundHalfEven(o.outlierFraction * Double(nIn * nOut))))
            var score = (0..<nOut).flatMap { n in (0..<nIn).map { k in (n: n, k: k, s: abs(Double(layer.weight[n][k]))) } }
            if o.outlierSelect == .error {
                let first = quantizeWeights(layer.weight)
                score = score.map { item in
                    let p = item.k / v, e = item.k % v, g = item.n / groupColumns
                    let code = first.codes[p * nOut + item.n]
                    let approx = first.results[p * groups + g].centroids[code * v + e]
                    return (item.n, item.k, abs(Double(layer.weight[item.n][item.k]) - approx))
                }
            }
            score.sort { $0.s != $1.s ? $0.s > $1.s : ($0.n, $0.k) < ($1.n, $1.k) }
            for item in score.prefix(count) {
                outlierRows[item.n].append((item.k, layer.weight[item.n][item.k]))
                weight[item.n][item.k] = 0
            }
            for n in 0..<nOut { outlierRows[n].sort { $0.index < $1.index } }
            let most = outlierRows.map(\.count).max() ?? 0
            notes.append("\(layer.name): \(count) outlier weight(s) (\(String(format: "%.2f", 100 * Double(count) / Double(nIn * nOut)))%, by \(o.outlierSelect.rawValue), at most \(most) per column) on a sparse chain of \(o.outlierLanes) lane(s)")
        }
        let (weightProblems, weightResults, codes) = quantizeWeights(weight)

        // Centroid dot products, in units of the input scale.
        var dots = [Double](repeating: 0, count: positions * groups * ka * kw)
        var maxDot = [Double](repeating: 0, count: groups)
        for p in 0..<positions {
            for g in 0..<groups {
                let r = weightResults[p * groups + g]
                let used = weightProblems[p * groups + g].k
                for k in 0..<ka {
                    for w in 0..<used {
                        var d = 0.0
                        for e in 0..<v { d += Double(centroids[(p * ka + k) * v + e]) * r.centroids[w * v + e] }
                        dots[((p * groups + g) * ka + k) * kw + w] = d
                        maxDot[g] = max(maxDot[g], abs(d))
                    }
                }
            }
        }

        // Table scale: acc units are (output step) · 2^-s_g, with the largest s_g whose entries
        // fit tbits. The requantizer multiplies by 2^max(0, -s_g) (a left shift) and rounds
        // off max(0, s_g) bits, so the datapath needs no multiplier.
        let entryType = IntType.int(o.tableBits)
        let entryMax = Double(entryType.max)
        guard let sx = c.inputType.quant?.scales.first, c.inputType.quant?.isPerTensor == true else {
            throw c.unsupported("a LUT-linear layer needs a per-tensor input scale")
        }
        let raw: Bool
        let sr: Double
        switch output {
        case let .requantized(_, scale, _, _): (raw, sr) = (false, scale)
        case .raw: (raw, sr) = (true, 1)
        }
        var groupShift = [Int](repeating: 0, count: groups)
        for g in 0..<groups where maxDot[g] > 0 {
            var s = Int(floor(log2(entryMax * sr / (maxDot[g] * sx))))
            // Guard the floor against rounding at exact powers of two.
            while (maxDot[g] * sx * pow(2, Double(s)) / sr).rounded(.toNearestOrEven) > entryMax { s -= 1 }
            groupShift[g] = min(max(s, -40), 40)
        }
        // Outliers: int8 per column; their requantizer term is M2 / 2^S2. The column's
        // shift is S2, so each group's table shift may not exceed its columns' S2.
        let outlierWeight = IntType.int(8)
        var outlierScale = [Double](repeating: 1, count: nOut)
        var outlierQ: [(multiplier: Int, shift: Int)] = []
        let hasOutliers = o.outlierFraction > 0
        try option(!(raw && hasOutliers), "outliers are not supported on LUT layers of quantized models")
        if hasOutliers {
            for n in 0..<nOut {
                let m = outlierRows[n].map { Double(abs($0.value)) }.max() ?? 0
                if m > 0 { outlierScale[n] = m / Double(outlierWeight.max) }
                guard let q = MultiplierQuantizer.quantize(sx * outlierScale[n] / sr, bits: DSPLowering.multiplierBits) else {
                    throw c.unprovable("outlier requantization ratio of output \(n) is too large")
                }
                outlierQ.append(q)
            }
            for g in 0..<groups {
                groupShift[g] = min(groupShift[g], groupRange(g).map { outlierQ[$0].shift }.min() ?? groupShift[g])
            }
        }
        let tables = dots.enumerated().map { i, d -> Int in
            let g = (i / (ka * kw)) % groups
            let t = roundHalfEven(d * sx * pow(2, Double(groupShift[g])) / sr)
            return Int(min(max(t, -entryMax), entryMax))
        }
        // The bias goes into the requantizer's offset, at 2^-S of an output step (raw outputs keep it in the accumulator).
        let biases = try (0..<nOut).map { n -> Int in
            guard raw else { return 0 }
            let b = roundHalfEven(Double(layer.bias[n]) * pow(2, Double(groupShift[n / groupColumns])) / sr)
            guard abs(b) < pow(2, 40) else { throw c.unprovable("bias of output \(n) is \(b) at accumulator scale, beyond 40 bits") }
            return Int(b)
        }
        let requantizers = try (0..<nOut).map { n -> Requantizer in
            if raw { return Requantizer(multiplier: 1, shift: 0, offset: 0) }
            let s = groupShift[n / groupColumns]
            let (l, shift) = hasOutliers ? (outlierQ[n].shift - s, outlierQ[n].shift) : (max(0, -s), max(0, s))
            let offset = roundHalfEven(Double(layer.bias[n]) / sr * pow(2, Double(shift))) + (shift > 0 ? pow(2, Double(shift - 1)) : 0)
            guard abs(offset) < pow(2, 60) else { throw c.unprovable("bias of output \(n) needs more than 62 bits at the requantizer") }
            return Requantizer(multiplier: 1 << l, shift: shift, offset: Int(offset))
        }
        var outliers: OutlierChain?
        var outlierBound = [Int](repeating: 0, count: nOut)
        if hasOutliers {
            let count = max(1, outlierRows.map(\.count).max() ?? 1)
            var values: [Int] = [], indices: [Int] = []
            let xMag = max(abs(x.min), abs(x.max))
            for n in 0..<nOut {
                for j in 0..<count {
                    if j < outlierRows[n].count {
                        let (k, w) = outlierRows[n][j]
                        let q = Int(min(max(roundHalfEven(Double(w) / outlierScale[n]), Double(-outlierWeight.max)), Double(outlierWeight.max)))
                        values.append(q)
                        indices.append(k)
                        outlierBound[n] += abs(q) * xMag
                    } else {
                        values.append(0)
                        indices.append(0)
                    }
                }
            }
            let bound = outlierBound.max() ?? 0
            // Wider than one product plus a guard bit, so the chain's sign extensions are never empty.
            let accType = IntType.int(max(IntType.signedFitting(-bound, bound)!.bits, outlierWeight.bits + x.bits + 2))
            outliers = OutlierChain(count: count, lanes: min(o.outlierLanes, count), values: values, indices: indices,
                                    weight: outlierWeight, accumulator: accType, multipliers: outlierQ.map(\.multiplier),
                                    multiplier: .uint(DSPLowering.multiplierBits))
        }

        let requantizedType: IntType
        let table: ActivationTable?
        let outQuant: Quantization?
        switch output {
        case let .requantized(t, _, tab, q): (requantizedType, table, outQuant) = (t, tab, q)
        case .raw: (requantizedType, table, outQuant) = (.int(2), nil, nil)
        }
        // Proven bounds: |acc[n]| ≤ |b[n]| + Σ_p max_k |T[p][g][k][code[p][n]]|.
        var columnBound = [Int](repeating: 0, count: nOut)
        for n in 0..<nOut {
            let g = n / groupColumns
            var sum = abs(biases[n])
            for p in 0..<positions {
                let w = codes[p * nOut + n]
                var m = 0
                for k in 0..<ka { m = max(m, abs(tables[((p * groups + g) * ka + k) * kw + w])) }
                sum += m
            }
            columnBound[n] = sum
        }
        let accBound = columnBound.max() ?? 0
        let bType = IntType.signedFitting(biases.min() ?? 0, biases.max() ?? 0)!
        guard let bounded = IntType.signedFitting(-accBound, accBound) else {
            throw c.unprovable("accumulator bound \(accBound) needs more than 62 bits")
        }
        // Wider than an entry and than the bias, so sign extensions are never empty (RTL/lf_lut_linear.v).
        let accType = IntType.int(max(bounded.bits, entryType.bits + 1, bType.bits + 1))
        let sMax = requantizers.map(\.shift).max() ?? 0
        let lMax = requantizers.map { $0.multiplier.trailingZeroBitCount }.max() ?? 0
        // |acc·2^L + acc_outlier·M2| + C per column.
        var scaledLo = 0, scaledHi = 0
        for n in 0..<nOut {
            let (shifted, o1) = columnBound[n].multipliedReportingOverflow(by: requantizers[n].multiplier)
            let (outer, o2) = outlierBound[n].multipliedReportingOverflow(by: outliers?.multipliers[n] ?? 0)
            guard !o1, !o2, shifted < 1 << 60, outer < 1 << 60 else { throw c.unprovable("requantization value needs more than 62 bits") }
            scaledLo = min(scaledLo, -shifted - outer + requantizers[n].offset)
            scaledHi = max(scaledHi, shifted + outer + requantizers[n].offset)
        }
        guard let scaledFit = IntType.signedFitting(scaledLo, scaledHi) else {
            throw c.unprovable("requantization value needs more than 62 bits")
        }
        let cType = Arith.signedType(requantizers.map(\.offset).min() ?? 0, requantizers.map(\.offset).max() ?? 0)!
        let rType = raw ? accType : requantizedType
        // Wider than the accumulator and the offset, and able to hold the clamp bounds (RTL/lf_round_clamp.v).
        let scaledType = IntType.int(max(scaledFit.bits, accType.bits + 1, rType.bits + 1, cType.bits,
                                         (outliers?.accumulator.bits ?? 0) + 1, DSPLowering.multiplierBits + 2))
        guard scaledType.bits <= 62 else { throw c.unprovable("requantization value needs more than 62 bits") }
        let span = x.max - x.min
        let distanceType: IntType = switch o.distance {
        case .linf: .uint(max(IntType.unsignedFitting(span)!.bits, x.bits + 2))
        case .l2: .uint(max(IntType.unsignedFitting(v * span * span)!.bits, 2 * x.bits + 3))
        }

        let outType = DSPLowering.linearOutputType(input: c.inputType, inputCount: nIn, element: ElementType(table?.output ?? rType), outputs: nOut, quant: outQuant)
        let kernel = LUTKernel(
            inputCount: nIn, outputCount: nOut, inputType: c.inputType, outputType: outType,
            vectorLength: v, activationCentroids: ka, weightCentroids: kw, groupColumns: groupColumns,
            distance: o.distance, distanceType: distanceType, centroids: centroids, codes: codes, entry: entryType,
            tables: tables, bias: bType, biases: biases, accumulator: accType, requantizers: requantizers,
            multiplierShift: IntType.unsignedFitting(max(lMax, 1))!, shift: IntType.unsignedFitting(max(sMax, 1))!, offset: cType,
            scaled: scaledType, requantized: rType, table: table, outliers: outliers, searchLanes: searchLanes, columnLanes: columnLanes,
            positionLanes: positionLanes)
        let units = (0..<nOut).map { n in sr * pow(2, -Double(groupShift[n / groupColumns])) }
        return (kernel, notes, units)
    }
}
