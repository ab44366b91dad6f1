// Reference evaluation of the argmax kernel: the first index of the largest element.
import HardwareIR

extension ArgMaxKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] {
        let x = inputs[0]
        var best = 0
        for i in x.indices where x[i] > x[best] { best = i }
        return [best]
    }
}
