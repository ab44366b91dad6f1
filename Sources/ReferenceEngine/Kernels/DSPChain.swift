// Reference evaluation of the DSP-chain kernel: `acc = b + Σ_block Σ_i value · x[block·M + offset]`,
// then the requantizer and the optional table (docs/numerics.md, "DSP-chain kernel").
import HardwareIR

extension DSPKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        try evaluate(inputs, node: node, threads: 1)
    }

    /// Frame by frame (the windows of a convolution), the outputs of every frame split across threads.
    public func evaluate(_ inputs: [[Int]], node: String, threads: Int) throws -> [Int] {
        if frames == 1 { return try IntegerEngine.parallel(outputCount, threads: threads) { try output(inputs[0], $0, node: node) } }
        let x = inputs[0]
        return try IntegerEngine.parallel(frames * outputCount, threads: threads) { i in
            try output(x, i % outputCount, base: (i / outputCount) * inputCount, node: node)
        }
    }

    /// The exact accumulator of output `n` for the frame at `base` of `x`.
    public func accumulate(_ x: [Int], _ n: Int, base: Int = 0) -> Int {
        let m = blockSize
        var acc = biases[n]
        var at = n * blocks * kept
        for b in 0..<blocks {
            for _ in 0..<kept {
                let i = b * m + offsets[at]
                if i < inputCount { acc += values[at] * x[base + i] }
                at += 1
            }
        }
        return acc
    }

    func output(_ x: [Int], _ n: Int, base: Int = 0, node: String) throws -> Int {
        let acc = accumulate(x, n, base: base)
        guard accumulator.contains(acc) else { throw OverflowError(kernel: node, quantity: "accumulator", value: acc, type: accumulator) }
        let r = try IntegerEngine.requantize(acc, requantizers[n], scaled: scaled, to: clampRange, halfEven: halfEven, node: node)
        return table?.lookup(r) ?? r
    }
}
