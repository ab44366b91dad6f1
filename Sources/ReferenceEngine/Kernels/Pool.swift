// Reference evaluation of the pool kernel: the per-channel maximum or exact sum of each frame.
import HardwareIR

extension PoolKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        let x = inputs[0]
        var out: [Int] = []
        out.reserveCapacity(outputType.count)
        for f in 0..<frames { out += apply(x[(f * frameSize)..<((f + 1) * frameSize)]) }
        for v in out where !outputType.element.contains(v) {
            throw OverflowError(kernel: node, quantity: "pool \(reduction.rawValue)", value: v, type: outputType.storage)
        }
        return out
    }
}
