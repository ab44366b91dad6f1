// Reference evaluation of the LUT-linear kernel: nearest-centroid search (ties to the
// lowest index), table lookups and additions, the power-of-two requantizer, and the
// exact outlier chain of dense-and-sparse layers (docs/numerics.md, "LUT-linear layer").
import HardwareIR

extension LUTKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        try evaluate(inputs, node: node, threads: 1)
    }

    /// Frame by frame (the windows of a convolution): the shuffle loop (FastLUT.swift) when
    /// the kernel fits it, unless `IntegerEngine.checked`; the same integers either way.
    public func evaluate(_ inputs: [[Int]], node: String, threads: Int) throws -> [Int] {
        if !IntegerEngine.checked, let fast = FastLUTCache.layer(for: self) {
            return try evaluateFast(inputs, layer: fast, node: node, threads: threads)
        }
        return try evaluateChecked(inputs, node: node, threads: threads)
    }

    /// The interpreter: every table entry read and added one at a time.
    public func evaluateChecked(_ inputs: [[Int]], node: String, threads: Int = 1) throws -> [Int] {
        try byFrame(inputs) { x in
            let a = search(x)
            return try IntegerEngine.parallel(outputCount, threads: threads) { try output(x, a, $0, node: node) }
        }
    }

    /// The shuffle loop on `layer` (this kernel packed), then the same output side.
    public func evaluateFast(_ inputs: [[Int]], layer: FastLUTLayer, node: String, threads: Int = 1) throws -> [Int] {
        try byFrame(inputs) { x in
            let sums = layer.sums(x[...], threads: threads)
            return try (0..<outputCount).map { try finish(biases[$0] + sums[$0], x, $0, node: node) }
        }
    }

    /// `body` on each frame's input vector (the windows of a convolution), outputs concatenated.
    func byFrame(_ inputs: [[Int]], _ body: ([Int]) throws -> [Int]) rethrows -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(outputCount * frames)
        for f in 0..<frames {
            out += try body(frames == 1 ? inputs[0] : Array(inputs[0][(f * inputCount)..<((f + 1) * inputCount)]))
        }
        return out
    }

    /// Distance between position `p` of `x` (zero beyond its end) and centroid `c`.
    @inline(__always)
    public func distance(_ x: [Int], position p: Int, centroid c: Int) -> Int {
        var d = 0
        for e in 0..<vectorLength {
            let i = p * vectorLength + e
            let diff = (i < x.count ? x[i] : 0) - centroid(p, c, e)
            switch distance {
            case .linf: d = Swift.max(d, abs(diff))
            case .l2: d += diff * diff
            }
        }
        return d
    }

    /// Nearest activation centroid of each position; ties go to the lowest index.
    public func search(_ x: [Int]) -> [Int] {
        (0..<positions).map { p in
            var best = 0, bestDistance = Int.max
            for c in 0..<activationCentroids {
                let d = distance(x, position: p, centroid: c)
                if d < bestDistance { (best, bestDistance) = (c, d) }
            }
            return best
        }
    }

    /// Output `n` given the chosen centroids `a`.
    func output(_ x: [Int], _ a: [Int], _ n: Int, node: String) throws -> Int {
        let g = n / groupColumns
        var acc = biases[n]
        for p in 0..<positions { acc += entry(p, g, a[p], code(p, n)) }
        return try finish(acc, x, n, node: node)
    }

    /// The output side of column `n` from its accumulator: range check, requantizer,
    /// outlier chain, clamp and activation table.
    func finish(_ acc: Int, _ x: [Int], _ n: Int, node: String) throws -> Int {
        guard accumulator.contains(acc) else { throw OverflowError(kernel: node, quantity: "accumulator", value: acc, type: accumulator) }
        let q = requantizers[n]
        var s = q.scaled(acc)
        if let o = outliers {
            // Dense-and-sparse: y = clamp((acc·2^L + acc_outlier·M2 + C) >> S).
            var sparse = 0
            for j in 0..<o.count { sparse += o.values[n * o.count + j] * x[o.indices[n * o.count + j]] }
            guard o.accumulator.contains(sparse) else {
                throw OverflowError(kernel: node, quantity: "outlier accumulator", value: sparse, type: o.accumulator)
            }
            s += sparse * o.multipliers[n]
        }
        guard scaled.contains(s) else { throw OverflowError(kernel: node, quantity: "scaled accumulator", value: s, type: scaled) }
        let r = Swift.min(Swift.max(s >> q.shift, requantized.min), requantized.max)
        return table?.lookup(r) ?? r
    }
}
