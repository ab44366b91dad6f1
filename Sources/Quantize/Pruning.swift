// N:M magnitude pruning along the input dimension (2:4, 1:4, 2:8, …).

/// Keeps the `n` largest-magnitude weights in every block of `m` consecutive inputs.
public enum NMPruning {
    /// Offsets kept in each block of `row` (zero-padded to whole blocks), ascending.
    /// Ties in magnitude keep the lower offset.
    public static func keptOffsets(row: [Float], n: Int, m: Int) -> [[Int]] {
        precondition(n >= 1 && n <= m)
        let blocks = (row.count + m - 1) / m
        return (0..<blocks).map { b in
            let magnitude = (0..<m).map { i in b * m + i < row.count ? abs(row[b * m + i]) : 0 }
            let order = (0..<m).sorted { magnitude[$0] != magnitude[$1] ? magnitude[$0] > magnitude[$1] : $0 < $1 }
            return order.prefix(n).sorted()
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
