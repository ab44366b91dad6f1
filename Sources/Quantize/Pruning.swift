// N:M magnitude pruning along the input dimension (2:4, 1:4, 2:8, …), of single
// weights or of units of several consecutive weights (block sparsity).

/// Keeps the `n` largest-magnitude units in every block of `m` units along the inputs.
public enum NMPruning {
    /// Offsets kept in each block of `m · unit` inputs of `row` (zero-padded to whole
    /// blocks), ascending. A unit is `unit` consecutive weights scored by the sum of
    /// their magnitudes; ties keep the lower unit.
    public static func keptOffsets(row: [Float], n: Int, m: Int, unit: Int = 1) -> [[Int]] {
        precondition(n >= 1 && n <= m && unit >= 1)
        let width = m * unit
        let blocks = (row.count + width - 1) / width
        return (0..<blocks).map { b in
            let score = (0..<m).map { u in
                (0..<unit).reduce(Float(0)) { sum, e in
                    let i = b * width + u * unit + e
                    return sum + (i < row.count ? abs(row[i]) : 0)
                }
            }
            let order = (0..<m).sorted { score[$0] != score[$1] ? score[$0] > score[$1] : $0 < $1 }
            return order.prefix(n).sorted().flatMap { u in (0..<unit).map { u * unit + $0 } }
        }
    }

    /// `row` with every weight outside `kept` set to zero.
    public static func apply(_ row: [Float], kept: [[Int]], m: Int) -> [Float] {
        var out = [Float](repeating: 0, count: row.count)
        for (b, offsets) in kept.enumerated() {
            for i in offsets where b * m + i < row.count { out[b * m + i] = row[b * m + i] }
        }
        return out
    }
}
