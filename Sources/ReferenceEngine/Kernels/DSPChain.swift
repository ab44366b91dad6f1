// Reference evaluation of the DSP-chain kernel: `acc = b + Σ_block Σ_i value · x[block·M + offset]`,
// then the requantizer and the optional table (docs/numerics.md, "DSP-chain kernel").
import HardwareIR

extension DSPKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        try evaluate(inputs, node: node, threads: 1)
    }

    /// Frame by frame (the windows of a convolution), the outputs of every frame split across threads.
    public func evaluate(_ inputs: [[Int]], node: String, threads: Int) throws -> [Int] {
        let x = inputs[0]
        let dense = offsetsAreDense
        return try values.withUnsafeBufferPointer { v in
            try offsets.withUnsafeBufferPointer { o in
                try x.withUnsafeBufferPointer { xs in
                    try IntegerEngine.parallel(frames * outputCount, threads: threads) { i in
                        let n = i % outputCount
                        return try output(accumulate(xs, v, o, n, base: (i / outputCount) * inputCount, dense: dense), n, node: node)
                    }
                }
            }
        }
    }

    /// Whether every block stores all `M` weights in order (a dense chain), so that stored
    /// weight `j` of a row multiplies input `j`.
    var offsetsAreDense: Bool {
        kept == blockSize && offsets.enumerated().allSatisfy { $0.element == $0.offset % blockSize }
    }

    /// The exact accumulator of output `n` for the frame at `base` of `x`.
    public func accumulate(_ x: [Int], _ n: Int, base: Int = 0) -> Int {
        values.withUnsafeBufferPointer { v in
            offsets.withUnsafeBufferPointer { o in
                x.withUnsafeBufferPointer { accumulate($0, v, o, n, base: base, dense: false) }
            }
        }
    }

    /// `acc = b + Σ_block Σ_i value · x[block·M + offset]` (inputs past `inputCount` are the
    /// padding of the last block and contribute nothing); `dense` skips the offsets, which
    /// are then the identity.
    @inline(__always)
    func accumulate(_ x: UnsafeBufferPointer<Int>, _ v: UnsafeBufferPointer<Int>, _ o: UnsafeBufferPointer<Int>, _ n: Int, base: Int,
                    dense: Bool) -> Int {
        var acc = biases[n]
        let row = n * blocks * kept
        if dense {
            for i in 0..<inputCount { acc += v[row + i] * x[base + i] }
            return acc
        }
        let m = blockSize
        var at = row
        for b in 0..<blocks {
            for _ in 0..<kept {
                let i = b * m + o[at]
                if i < inputCount { acc += v[at] * x[base + i] }
                at += 1
            }
        }
        return acc
    }

    func output(_ acc: Int, _ n: Int, node: String) throws -> Int {
        guard accumulator.contains(acc) else { throw OverflowError(kernel: node, quantity: "accumulator", value: acc, type: accumulator) }
        let r = try IntegerEngine.requantize(acc, requantizers[n], scaled: scaled, to: clampRange, halfEven: halfEven, node: node)
        return table?.lookup(r) ?? r
    }
}
