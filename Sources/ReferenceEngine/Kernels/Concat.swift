// Reference evaluation of the concat kernel: the input frames one after another.
import HardwareIR

extension ConcatKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] { inputs.flatMap { $0 } }
}
