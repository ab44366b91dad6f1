// Reference evaluation of the DSP-chain kernel: `acc = b + Σ_block Σ_i value · x[block·M + offset]`,
// then the requantizer and the optional table (docs/numerics.md, "DSP-chain kernel").
import HardwareIR

extension DSPKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        try (0..<outputCount).map { try output(inputs[0], $0, node: node) }
    }

    public func evaluate(_ inputs: [[Int]], node: String, threads: Int) throws -> [Int] {
        try IntegerEngine.parallel(outputCount, threads: threads) { try output(inputs[0], $0, node: node) }
    }

    /// The exact accumulator of output `n`.
    public func accumulate(_ x: [Int], _ n: Int) -> Int {
        let m = blockSize
        var acc = biases[n]
        var at = n * blocks * kept
        for b in 0..<blocks {
            for _ in 0..<kept {
                let i = b * m + offsets[at]
                if i < x.count { acc += values[at] * x[i] }
                at += 1
            }
        }
        return acc
    }

    func output(_ x: [Int], _ n: Int, node: String) throws -> Int {
        let acc = accumulate(x, n)
        guard accumulator.contains(acc) else { throw OverflowError(kernel: node, quantity: "accumulator", value: acc, type: accumulator) }
        let r = try IntegerEngine.requantize(acc, requantizers[n], scaled: scaled, to: clampRange, halfEven: halfEven, node: node)
        return table?.lookup(r) ?? r
    }
}
