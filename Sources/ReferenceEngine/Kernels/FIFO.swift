// Reference evaluation of the FIFO: the identity.
import HardwareIR

extension FIFOKernel: ReferenceKernel {
    public func evaluate(_ inputs: [[Int]], node: String) throws -> [Int] { inputs[0] }
}
