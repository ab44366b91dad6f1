// Reference evaluation of the threshold kernel: per element, the count of its
// channel's thresholds it passes, as `base + step · count` (docs/numerics.md, "Thresholds").
import HardwareIR

extension ThresholdKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        inputs[0].enumerated().map { i, x in apply(x, channel: (i % count) % channels) }
    }
}
