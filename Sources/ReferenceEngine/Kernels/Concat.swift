// Reference evaluation of the concat kernel: the input frames one after another.
import HardwareIR

extension ConcatKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        let sizes = inputTypes.map(\.frameSize)
        var out: [Int] = []
        out.reserveCapacity(outputType.count)
        for f in 0..<outputType.framesPerInference {
            for (p, x) in inputs.enumerated() { out += x[(f * sizes[p])..<((f + 1) * sizes[p])] }
        }
        return out
    }
}
